import Dispatch
import Foundation

/// SIGTERM and SIGINT call `handler` (once each) instead of killing the process, so a
/// long-running command can stop cleanly: finish or roll back what is in flight, report, exit 0.
final class TerminationSignals {
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable () -> Void) {
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    func stop() {
        for source in sources { source.cancel() }
    }
}
