import Foundation
import OperatorErrors
import PostgresClient

/// One PostgreSQL endpoint as a router sees it: where clients should be sent.
///
/// Built from a node's DSN the way libpq would read it (the DSN, then `PGHOST`/`PGPORT`/
/// `PGDATABASE`/`PGUSER`, then libpq's defaults), because that is where the operator's own
/// clients go. `user` is only for the router's own sessions on the node (the `none` router's
/// fence, the names of PAUSE's holders); it is never written into a router's configuration.
public struct RouterNode: Codable, Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let dbname: String
    public let user: String?

    public init(host: String, port: Int, dbname: String, user: String? = nil) {
        self.host = host
        self.port = port
        self.dbname = dbname
        self.user = user
    }

    public init(_ dsn: ConnectionString) throws(UsageError) {
        try self.init(dsn, environment: ProcessInfo.processInfo.environment)
    }

    /// `environment` stands in for the process's, so the rules are testable.
    public init(_ dsn: ConnectionString, environment: [String: String]) throws(UsageError) {
        func value(_ key: String, _ variable: String) -> String? {
            (dsn[key] ?? environment[variable]).flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let host = value("host", "PGHOST") ?? value("hostaddr", "PGHOSTADDR") else {
            // libpq would use its compiled-in socket directory; a router needs an address it can name.
            throw UsageError("the DSN \(dsn.shortDescription) names no host",
                             fix: "add host=… (or hostaddr=…) to the DSN, as the router must send clients to it")
        }
        guard !host.contains(",") else {
            throw UsageError("the DSN \(dsn.shortDescription) names several hosts (\(host))",
                             fix: "give the one node this cutover is about")
        }
        let portText = value("port", "PGPORT") ?? "5432"
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw UsageError("the DSN \(dsn.shortDescription) has port '\(portText)', which is not a port number",
                             fix: "give port=N with N between 1 and 65535")
        }
        let user = value("user", "PGUSER")
        self.init(host: host, port: port, dbname: value("dbname", "PGDATABASE") ?? user ?? "postgres", user: user)
    }

    /// `host:port/dbname`, for messages and reports.
    public var description: String { "\(host):\(port)/\(dbname)" }

    /// A DSN for the router's own sessions on this node; no password (libpq reads PGPASSFILE).
    public func connectionString() throws -> ConnectionString {
        var dsn = try ConnectionString("")
        dsn = dsn.setting("host", to: host).setting("port", to: String(port)).setting("dbname", to: dbname)
        if let user { dsn = dsn.setting("user", to: user) }
        return dsn
    }
}
