import OperatorErrors

/// Malformed or truncated bytes: which message, where, and what was wrong. Never a crash.
/// The stream stops on it (exit 1): the server sent what this decoder cannot read.
public struct PgOutputError: OperatorError, Equatable {
    public let message: String
    public let offset: Int
    public let reason: String

    public var status: ExitStatus { .failed }
    public var problem: String { "malformed \(message) message at byte \(offset): \(reason)" }
    public var fix: String? { nil }
}
