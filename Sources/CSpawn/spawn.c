#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include "CSpawn.h"

int cspawn_pipe_cloexec(int ends[2]) { return pipe2(ends, O_CLOEXEC); }

int cspawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

void cspawn_default_sigchld_if_ignored(void) {
    struct sigaction current;
    if (sigaction(SIGCHLD, NULL, &current) == 0 && current.sa_handler == SIG_IGN) signal(SIGCHLD, SIG_DFL);
}

short cspawn_setsid_flag(void) {
    return POSIX_SPAWN_SETSID;
}
