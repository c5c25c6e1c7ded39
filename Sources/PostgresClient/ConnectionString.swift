import CLibPQ
import Foundation
import OperatorErrors
import PostgresTypes

/// A libpq connection string or URI, validated by libpq itself.
///
/// The raw text never leaves this type except to libpq: `description` is the masked form,
/// so a DSN can be interpolated into any log line or report safely.
public struct ConnectionString: Sendable, CustomStringConvertible, Equatable {
    /// The parameters the string sets explicitly, in libpq's keyword order.
    public let parameters: [(key: String, value: String)]

    public init(_ text: String) throws(InvalidConnectionString) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(text, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0) } ?? "out of memory"
            PQfreemem(errorMessage)
            throw InvalidConnectionString(reason: reason.trimmingTrailingNewlines())
        }
        defer { PQconninfoFree(options) }
        var parameters: [(key: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                parameters.append((String(cString: keyword), String(cString: value)))
            }
            option += 1
        }
        self.parameters = parameters
    }

    private init(parameters: [(key: String, value: String)]) {
        self.parameters = parameters
    }

    public subscript(key: String) -> String? {
        parameters.last(where: { $0.key == key })?.value
    }

    /// Parameters that hold secrets: never printed, and worth a warning on a command line.
    public static let secretKeys: Set<String> = ["password", "sslpassword"]

    /// Whether the string holds a secret (a password or the SSL key's passphrase).
    public var hasPassword: Bool { parameters.contains { Self.secretKeys.contains($0.key) } }

    /// The same connection with one parameter set (or replaced).
    public func setting(_ key: String, to value: String) -> ConnectionString {
        ConnectionString(parameters: parameters.filter { $0.key != key } + [(key, value)])
    }

    /// The same connection without one parameter: the password, before a DSN goes into a
    /// child process's arguments (the password then travels in PGPASSWORD).
    public func removing(_ key: String) -> ConnectionString {
        ConnectionString(parameters: parameters.filter { $0.key != key })
    }

    /// The same connection with `default_transaction_read_only` off for its sessions, for the
    /// writers continuity itself runs (the stream's apply, cutover's own steps) into a database
    /// fenced read-only against its clients.
    public func overridingReadOnlyFence() -> ConnectionString {
        let own = (self["options"] ?? ProcessInfo.processInfo.environment["PGOPTIONS"]).map { $0 + " " } ?? ""
        return setting("options", to: own + "-c default_transaction_read_only=off")
    }

    /// The same connection aimed at another database on the same server.
    public func database(_ name: String) -> ConnectionString { setting("dbname", to: name) }

    /// The conninfo text handed to libpq. Contains the password if there is one: never log it.
    public var conninfo: String {
        parameters.map { "\($0.key)=\(Self.quote($0.value))" }.joined(separator: " ")
    }

    /// Key/value form with secrets masked; safe for logs, reports and manifests.
    public var description: String {
        parameters.map { "\($0.key)=\(Self.secretKeys.contains($0.key) ? "*****" : Self.quote($0.value))" }
            .joined(separator: " ")
    }

    /// `host:port/dbname` as far as the string says, for one-line messages.
    public var shortDescription: String {
        let host = self["host"] ?? self["hostaddr"] ?? "local socket"
        let port = self["port"].map { ":\($0)" } ?? ""
        let database = self["dbname"] ?? self["user"] ?? "default database"
        return "\(host)\(port)/\(database)"
    }

    public static func == (lhs: ConnectionString, rhs: ConnectionString) -> Bool {
        lhs.conninfo == rhs.conninfo
    }

    private static func quote(_ value: String) -> String {
        // Scalar by scalar: a quote followed by a combining mark is one Character with it.
        let safe = !value.isEmpty && value.unicodeScalars.allSatisfy { $0 != " " && $0 != "'" && $0 != "\\" && $0 != "=" }
        if safe { return value }
        let escaped = value.replacingScalars("\\", with: "\\\\").replacingScalars("'", with: "\\'")
        return "'\(escaped)'"
    }
}

public struct InvalidConnectionString: OperatorError, Equatable {
    public let reason: String
    public var status: ExitStatus { .badInput }
    public var problem: String { "cannot parse the connection string: \(reason)" }
    public var fix: String? {
        "give a libpq DSN such as 'host=db.internal port=5432 dbname=app user=app' or a URI 'postgresql://app@db.internal/app'"
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = self
        while text.last?.isNewline == true { text.removeLast() }
        return text
    }
}
