import OperatorErrors
import PostgresTypes

/// The rows of a query in text format, copied out of libpq's result.
///
/// Meant for catalogue queries and small results; bulk data moves through COPY instead.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [Row]
    /// The command tag, such as `INSERT 0 3` or `SELECT 1`.
    public let commandTag: String

    /// Rows affected, from the command tag's last number.
    public var affectedRows: Int? {
        commandTag.split(separator: " ").last.flatMap { Int($0) }
    }

    /// The first column of the first row: the answer of a `SELECT x` query.
    public func scalar<T: PostgresTextDecodable>(_ type: T.Type = T.self) throws -> T {
        guard let row = rows.first else { throw DecodeError(column: columns.first ?? "?", text: nil, type: "\(T.self)") }
        return try row.decode(0, as: type)
    }
}

public struct Row: Sendable {
    public let values: [String?]
    let columns: [String]

    /// The raw text of a column; nil for SQL NULL.
    public subscript(_ index: Int) -> String? { values[index] }

    public subscript(_ name: String) -> String? {
        columns.firstIndex(of: name).flatMap { values[$0] }
    }

    public func decode<T: PostgresTextDecodable>(_ index: Int, as type: T.Type = T.self) throws -> T {
        guard let text = values[index], let value = T(postgresText: text) else {
            throw DecodeError(column: columns[index], text: values[index], type: "\(T.self)")
        }
        return value
    }

    public func decode<T: PostgresTextDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let index = columns.firstIndex(of: name) else {
            throw DecodeError(column: name, text: nil, type: "\(T.self) (no such column)")
        }
        return try decode(index, as: type)
    }

    /// Like `decode`, but SQL NULL gives nil instead of an error.
    public func decodeIfPresent<T: PostgresTextDecodable>(_ name: String, as type: T.Type = T.self) throws -> T? {
        guard let index = columns.firstIndex(of: name) else {
            throw DecodeError(column: name, text: nil, type: "\(T.self) (no such column)")
        }
        return values[index] == nil ? nil : try decode(index, as: type)
    }
}

/// A server's answer this client cannot read: the work stops (exit 1) rather than guess.
public struct DecodeError: OperatorError, Equatable {
    public let column: String
    public let text: String?
    public let type: String
    public var status: ExitStatus { .failed }
    public var problem: String {
        "column \(column): cannot read \(text.map { "'\($0)'" } ?? "NULL") as \(type)"
    }
    public var fix: String? { nil }
}

/// A Swift type that can be read from PostgreSQL's text output format.
public protocol PostgresTextDecodable {
    init?(postgresText: String)
}

extension String: PostgresTextDecodable {
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresTextDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int64: PostgresTextDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension UInt32: PostgresTextDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Double: PostgresTextDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresTextDecodable {
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true", "on": self = true
        case "f", "false", "off": self = false
        default: return nil
        }
    }
}

extension LSN: PostgresTextDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}
