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

/// A plain operator error for the cases that need no type of their own.
public struct UsageError: OperatorError, Equatable {
    public let status: ExitStatus
    public let problem: String
    public let fix: String?

    public init(_ problem: String, fix: String? = nil, status: ExitStatus = .badInput) {
        self.problem = problem
        self.fix = fix
        self.status = status
    }
}
