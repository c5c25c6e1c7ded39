// GNU extensions Swift's Glibc module does not show: a pipe made close-on-exec atomically, so a
// child another thread spawns at that moment cannot inherit it (and hold its reader open), and
// closing every other descriptor in the child.
#ifndef CSPAWN_H
#define CSPAWN_H
#include <spawn.h>

int cspawn_pipe_cloexec(int ends[2]);
int cspawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

#endif
