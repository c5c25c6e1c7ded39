import Foundation
import OperatorErrors
import PostgresClient
import Routing
import TestSupport

/// Two fresh databases, the old active on the test bed's active cluster and the new one on its
/// passive, each with a `marker` naming it and a table `t` to write to.
struct Nodes {
    let from: RouterNode
    let to: RouterNode
    let fromDSN: ConnectionString
    let toDSN: ConnectionString

    static func with<T>(_ body: (Nodes) async throws -> T) async throws -> T {
        try await withTestDatabase(on: TestBed.active) { fromDSN in
            try await withTestDatabase(on: TestBed.passive) { toDSN in
                for (dsn, name) in [(fromDSN, "from"), (toDSN, "to")] {
                    try await withConnection(dsn) { session in
                        try await session.execute("CREATE TABLE marker (node text); INSERT INTO marker VALUES ('\(name)')")
                        try await session.execute("CREATE TABLE t (id serial PRIMARY KEY, v int)")
                    }
                }
                return try await body(Nodes(from: try RouterNode(fromDSN), to: try RouterNode(toDSN), fromDSN: fromDSN, toDSN: toDSN))
            }
        }
    }
}

/// Where a client's write lands: "from" or "to" (the node's marker), in one transaction.
func writeLands(_ session: Connection) async throws -> String {
    try await session.query("WITH i AS (INSERT INTO t (v) VALUES (1)) SELECT node FROM marker").scalar(String.self)
}

/// A client as applications are: no fixed session settings (PgBouncer would refuse them).
func client(_ dsn: ConnectionString) async throws -> Connection {
    try await Connection.connect(dsn, options: .init(connectTimeout: 5, fixesSettings: false))
}

/// A new session for one write, as per-transaction clients do (`pgbench -C`).
func writeLandsOnANewSession(_ dsn: ConnectionString) async throws -> String {
    let session = try await client(dsn)
    defer { Task { await session.close() } }
    return try await writeLands(session)
}

/// One driver set up for a test: its router, where its clients connect now, and what it promises.
struct Harness {
    let name: String
    let router: any Router
    /// Where a client connecting now is sent (the pooler; for `command`, what the script last chose).
    let clientDSN: @Sendable () throws -> ConnectionString
    /// Whether clients follow a repoint to `to` (none: they must be told; only the fence is ours).
    let followsRepoint: Bool

    static let drivers = ["pgbouncer", "none", "command"]

    static func with<T>(_ driver: String, _ nodes: Nodes, _ body: (Harness) async throws -> T) async throws -> T {
        switch driver {
        case "pgbouncer":
            return try await PrivatePgBouncer.with(databases: ["app": line(nodes.from)]) { bouncer in
                let spec = RouterSpec.pgbouncer(admin: bouncer.admin.conninfo, config: bouncer.configPath, database: "app")
                return try await body(Harness(name: driver, router: spec.makeRouter(from: nodes.from, to: nodes.to),
                                              clientDSN: { try bouncer.client("app") }, followsRepoint: true))
            }
        case "none":
            return try await body(Harness(name: driver, router: RouterSpec.none.makeRouter(from: nodes.from, to: nodes.to),
                                          clientDSN: { nodes.fromDSN }, followsRepoint: false))
        default:
            return try await ScriptDirectory.with(script: ScriptDirectory.routingScript) { directory in
                try "host=\(nodes.from.host) port=\(nodes.from.port) dbname=\(nodes.from.dbname) user=\(nodes.from.user ?? "postgres")"
                    .write(toFile: directory.path + "/route", atomically: true, encoding: .utf8)
                let router = RouterSpec.command(path: directory.script).makeRouter(from: nodes.from, to: nodes.to)
                return try await body(Harness(name: driver, router: router, clientDSN: {
                    try ConnectionString(String(contentsOfFile: directory.path + "/route", encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines) + " user=postgres")
                }, followsRepoint: true))
            }
        }
    }

    /// A `[databases]` connect string for a node.
    static func line(_ node: RouterNode) -> String { "host=\(node.host) port=\(node.port) dbname=\(node.dbname)" }
}
