import ContinuityConfig
import OperatorErrors

/// Runs `body` but no longer than `limit`: past it, `body` is cancelled (a snapshot then
/// removes what it wrote) and, once it has stopped, `DeadlinePassed` is thrown.
func withDeadline<T: Sendable>(_ limit: Duration, doing what: String,
                               _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            // A timer, not synchronisation: the limit the operator gave.
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        if let first = try await group.next(), let value = first { return value }
        // The timer fired first: stop the body and wait until it has cleaned up. Had it just
        // finished after all, its result stands.
        group.cancelAll()
        if case .some(.some(let value)) = try? await group.next() { return value }
        throw DeadlinePassed(what: what, limit: limit)
    }
}

public struct DeadlinePassed: OperatorError {
    public let what: String
    public let limit: Duration
    public var status: ExitStatus { .failed }
    public var problem: String { "\(what) did not finish within the deadline of \(DurationText.format(limit))" }
    public var fix: String? { "what an unfinished snapshot wrote was removed; give a longer --deadline (or more jobs) and run it again" }
}
