// The cutover's watchdog (`continuity cutover watchdog`) must not die of SIGTERM, SIGINT or
// SIGHUP from its first instruction on: it is what resumes paused clients if the cutover dies.
// The cutover starts it with those signals blocked, so one sent early waits. Swift code runs
// too late to ignore them: before the async main runs, libdispatch turns the main thread into
// its signal thread, which waits in sigsuspend with nothing blocked, and a pending SIGTERM is
// then delivered and ends the process (seen in a test). This constructor runs before main and
// ignores them, which also drops any already pending.
#include <signal.h>
#include <string.h>
#include "CWatchdogSignals.h"

#ifndef __GLIBC__
#error "a constructor is handed argc and argv by glibc only; read /proc/self/cmdline instead"
#endif

__attribute__((constructor)) static void ignore_termination_signals_in_the_watchdog(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "cutover") == 0 && strcmp(argv[2], "watchdog") == 0) {
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
    }
}
