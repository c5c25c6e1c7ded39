import Foundation

/// SIGTERM and SIGINT call `handler` instead of killing the process, so a long-running command
/// can stop cleanly: finish or roll back what is in flight, report, exit 0.
///
/// A process-wide `sigaction` handler writes a byte to a pipe, and a thread of its own reads it
/// and calls `handler`: the signal may land on any thread. (A dispatch signal source was used
/// first; under load a SIGTERM to `stream` was sometimes not acted on at all, likely because
/// on Linux it sees only signals the receiving thread blocks, and connection threads started
/// before it did not.)
final class TerminationSignals {
    private let reader: Thread
    private let pipe: (read: Int32, write: Int32)

    init(_ handler: @escaping @Sendable () -> Void) {
        var fds: [Int32] = [0, 0]
        precondition(Glibc.pipe(&fds) == 0, "cannot make a pipe for signals")
        pipe = (fds[0], fds[1])
        terminationPipeWrite = fds[1]
        let readEnd = fds[0]
        reader = Thread {
            var byte: UInt8 = 0
            while read(readEnd, &byte, 1) == 1 { handler() }  // ends when the pipe is closed
        }
        reader.start()
        for number in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in
                var byte: UInt8 = 1
                _ = write(terminationPipeWrite, &byte, 1)  // async-signal-safe
            }
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
    }

    /// Back to the default actions; the reader thread ends.
    func stop() {
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        close(pipe.write)
    }
}

/// Where the signal handler writes: a C handler cannot capture, so it reads a global. Set once
/// before the handlers are installed.
nonisolated(unsafe) private var terminationPipeWrite: Int32 = -1
