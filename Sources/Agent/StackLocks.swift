import Synchronization

/// One operation per stack at a time, whoever asks (an HTTP request, the schedule): a second
/// one is told who holds the stack (409 over HTTP, a skipped slot for the schedule), never
/// queued, so nothing waits unseen behind a long restore.
public final class StackLocks: Sendable {
    private let holders = Mutex<[String: String]>([:])

    public init() {}

    /// Takes the stack for `operation`, or returns the operation holding it.
    public func acquire(_ stack: String, for operation: String) -> String? {
        holders.withLock { holders in
            if let holder = holders[stack] { return holder }
            holders[stack] = operation
            return nil
        }
    }

    public func release(_ stack: String) {
        _ = holders.withLock { $0.removeValue(forKey: stack) }
    }

    public func holder(of stack: String) -> String? {
        holders.withLock { $0[stack] }
    }
}
