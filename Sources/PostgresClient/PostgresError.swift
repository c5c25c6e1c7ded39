import CLibPQ
import OperatorErrors

/// An error the server reported for a statement, with the fields operators need to act on it.
public struct ServerError: OperatorError, Equatable {
    public let sqlState: String
    public let severity: String
    public let message: String
    public let detail: String?
    public let hint: String?
    /// The statement's first line, so a failure says which step failed.
    public let statement: String

    public init(sqlState: String, severity: String = "ERROR", message: String,
                detail: String? = nil, hint: String? = nil, statement: String) {
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
        self.statement = statement
    }

    init(result: OpaquePointer?, connection: OpaquePointer?, statement: String) {
        func field(_ code: Character) -> String? {
            guard let result, let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let fallback = connection.map { String(cString: PQerrorMessage($0)).trimmingTrailingNewlines() }
        self.init(sqlState: field("C") ?? "XX000",
                  severity: field("S") ?? "ERROR",
                  message: field("M") ?? fallback ?? "unknown error",
                  detail: field("D"),
                  hint: field("H"),
                  statement: String(statement.prefix(while: { !$0.isNewline }).prefix(120)))
    }

    public var status: ExitStatus { .failed }
    public var problem: String {
        "\(message) (SQLSTATE \(sqlState))" + (detail.map { ": \($0)" } ?? "")
    }
    public var fix: String? { hint }
    public var isQueryCanceled: Bool { sqlState == "57014" }
}

/// The connection was lost or misused mid-session (not a server-reported error).
public struct ConnectionLost: OperatorError, Equatable {
    public let target: String
    public let reason: String
    public var status: ExitStatus { .failed }
    public init(target: String, reason: String) {
        self.target = target
        self.reason = reason
    }

    public var problem: String { "lost the connection to \(target): \(reason)" }
    public var fix: String? { "check that the server is up; the command can be re-run safely" }
}

/// A connection could not be opened. The reason is classified so the message can say what to do.
public struct ConnectFailure: OperatorError, Equatable {
    public enum Reason: String, Sendable, Codable {
        case refused, timeout, unknownHost, authentication, noPassword, noSuchDatabase, noSuchRole,
             notAllowed, tooManyConnections, other
    }

    public let target: String
    public let reason: Reason
    /// libpq's own first line, kept for the log and for reasons it does not classify.
    public let libpqMessage: String
    public let timeoutSeconds: Int

    init(target: String, libpqMessage: String, reason: Reason, timeoutSeconds: Int) {
        self.target = target
        self.libpqMessage = libpqMessage
        self.reason = reason
        self.timeoutSeconds = timeoutSeconds
    }

    static func classify(_ message: String) -> Reason {
        let text = message.lowercased()
        let table: [(String, Reason)] = [
            ("connection refused", .refused),
            ("timeout expired", .timeout),
            ("could not translate host name", .unknownHost),
            ("name or service not known", .unknownHost),
            ("password authentication failed", .authentication),
            ("authentication failed", .authentication),
            ("no password supplied", .noPassword),
            ("does not exist", text.contains("role") ? .noSuchRole : .noSuchDatabase),
            ("no pg_hba.conf entry", .notAllowed),
            ("too many clients", .tooManyConnections),
            ("remaining connection slots", .tooManyConnections),
        ]
        return table.first(where: { text.contains($0.0) })?.1 ?? .other
    }

    public var status: ExitStatus {
        switch reason {
        case .unknownHost, .authentication, .noPassword, .noSuchDatabase, .noSuchRole: .badInput
        case .refused, .timeout, .notAllowed, .tooManyConnections, .other: .failed
        }
    }

    public var problem: String {
        switch reason {
        case .refused: "cannot connect to \(target): connection refused"
        case .timeout: "cannot connect to \(target): no answer within \(timeoutSeconds) s"
        case .unknownHost: "cannot connect to \(target): unknown host"
        case .authentication: "cannot connect to \(target): password authentication failed"
        case .noPassword: "cannot connect to \(target): the server asks for a password and none was given"
        case .noSuchDatabase, .noSuchRole, .notAllowed, .tooManyConnections, .other:
            "cannot connect to \(target): \(libpqMessage)"
        }
    }

    public var fix: String? {
        switch reason {
        case .refused: "check that PostgreSQL is running and listening on that host and port"
        case .timeout: "check the host, the port and any firewall in between (connect_timeout in the DSN raises the limit)"
        case .unknownHost: "check the host name in the DSN; it does not resolve"
        case .authentication, .noPassword:
            "check the user, and give the password through PGPASSWORD, PGPASSFILE/.pgpass or the config file"
        case .noSuchDatabase: "check dbname in the DSN, or create the database first"
        case .noSuchRole: "check user in the DSN, or create the role first"
        case .notAllowed: "allow this client in the server's pg_hba.conf (for streaming, a 'replication' line too)"
        case .tooManyConnections: "free some connections or raise max_connections, then re-run"
        case .other: nil
        }
    }
}
