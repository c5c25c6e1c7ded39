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

/// A directory of one test holding an executable `script` and what it writes.
struct ScriptDirectory {
    let path: String
    var script: String { path + "/router.sh" }
    var log: String { path + "/phases" }

    /// A router made of a file: each phase is logged with the nodes; repoint and rollback
    /// write the connect string clients should use into `route`.
    static let routingScript = """
        #!/bin/sh
        here=$(dirname "$0")
        echo "$CONTINUITY_CUTOVER_PHASE old=$CONTINUITY_OLD_HOST:$CONTINUITY_OLD_PORT/$CONTINUITY_OLD_DBNAME new=$CONTINUITY_NEW_HOST:$CONTINUITY_NEW_PORT/$CONTINUITY_NEW_DBNAME path=${PATH:+set} secret=${PGPASSFILE:-none}" >>"$here/phases"
        case "$CONTINUITY_CUTOVER_PHASE" in
            repoint) echo "host=$CONTINUITY_NEW_HOST port=$CONTINUITY_NEW_PORT dbname=$CONTINUITY_NEW_DBNAME" >"$here/route" ;;
            rollback) echo "host=$CONTINUITY_OLD_HOST port=$CONTINUITY_OLD_PORT dbname=$CONTINUITY_OLD_DBNAME" >"$here/route" ;;
        esac
        """

    static func with<T>(script: String, mode: mode_t = 0o755, _ body: (ScriptDirectory) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-router-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = ScriptDirectory(path: path)
        // Close-on-exec: a child another test spawns meanwhile must not keep the file open for
        // writing, or running it fails with ETXTBSY ("Text file busy").
        let descriptor = open(directory.script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw ScriptNotWritten(path: directory.script) }
        let bytes = Array(script.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count else { throw ScriptNotWritten(path: directory.script) }
        return try await body(directory)
    }
}

struct ScriptNotWritten: Error {
    let path: String
}
