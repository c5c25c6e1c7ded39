// What ChildProcess needs from C that Swift's Glibc module does not show: a pipe made
// close-on-exec atomically (a GNU extension), so a child another thread spawns at that moment
// cannot inherit it and hold its reader open; closing every other descriptor in the child (a
// GNU extension); and SIGCHLD put back to its default when a parent left it ignored (the kernel
// would then reap children itself, and waitpid could not tell how pg_dump ended).
#ifndef CSPAWN_H
#define CSPAWN_H
#include <spawn.h>

int cspawn_pipe_cloexec(int ends[2]);
int cspawn_close_from(posix_spawn_file_actions_t *actions, int lowest);
void cspawn_default_sigchld_if_ignored(void);
// POSIX_SPAWN_SETSID (a GNU extension): the child leads a new session.
short cspawn_setsid_flag(void);

#endif
