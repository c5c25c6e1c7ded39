/// The exit statuses of the command-line contract (README, "Exit status, for every command").
public enum ExitStatus: Int32, Sendable, Codable, Comparable {
    case done = 0
    /// The work failed (a server went away, a query failed, a finding blocks the next step).
    case failed = 1
    /// Bad usage or bad input: unparsable DSN, unknown host or database, missing option.
    case badInput = 2
    /// Refused for safety: a precondition was not met and nothing was changed.
    case refused = 3

    public static func < (lhs: ExitStatus, rhs: ExitStatus) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An error an operator can act on: one line saying what is wrong, one line saying what to do.
///
/// Every module's errors conform, so the command line can print them uniformly and pick
/// the exit status without knowing where they came from.
public protocol OperatorError: Error, CustomStringConvertible {
    var status: ExitStatus { get }
    /// What went wrong, in one line, naming the thing that was wrong.
    var problem: String { get }
    /// What to do about it, in one line; nil when there is nothing useful to add.
    var fix: String? { get }
}

extension OperatorError {
    public var description: String {
        guard let fix else { return problem }
        return "\(problem)\n\(fix)"
    }
}

// The catalogue: every error that can reach an operator conforms to `OperatorError` and has
// one of three kinds, which its exit status names. Errors that carry data have a type of
// their own in the module that raises them (ServerError, StoreError, UnappliableChange,
// PgOutputError, ...); the rest are one of the three plain types below, one per kind, so
// the type a throw site names says the exit status too.

/// Bad usage or bad input (exit 2): a flag, setting, name or reference the operator gave is
/// wrong, and giving the right one is the fix.
public struct UsageError: OperatorError, Equatable {
    public let problem: String
    public let fix: String?
    public var status: ExitStatus { .badInput }

    public init(_ problem: String, fix: String? = nil) {
        self.problem = problem
        self.fix = fix
    }
}

/// The work failed (exit 1): a server, a store or a tool did not do what was asked, or what
/// came back was damaged.
public struct Failure: OperatorError, Equatable {
    public let problem: String
    public let fix: String?
    public var status: ExitStatus { .failed }

    public init(_ problem: String, fix: String? = nil) {
        self.problem = problem
        self.fix = fix
    }
}

/// Refused for safety (exit 3): going on could lose or mix up data, so nothing was changed.
public struct Refusal: OperatorError, Equatable {
    public let problem: String
    public let fix: String?
    public var status: ExitStatus { .refused }

    public init(_ problem: String, fix: String? = nil) {
        self.problem = problem
        self.fix = fix
    }
}
