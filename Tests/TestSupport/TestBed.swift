import Foundation
import PostgresClient

/// The servers started by `scripts/testbed up`, as the tests see them.
///
/// Settings come from the process environment, or else from `<checkout>/.testbed-env`, which
/// the script writes, so `swift test` works without sourcing anything first.
public enum TestBed {
    public static let settings: [String: String] = {
        _ = PoolStallProbe.started  // every test that uses a server passes here first
        var settings = readEnvFile()
        for (key, value) in ProcessInfo.processInfo.environment where key.hasPrefix("CONTINUITY_TEST") || key == "PGPASSFILE" {
            settings[key] = value
        }
        // libpq reads the password from the pgpass file; make sure this process points at it.
        if let passfile = settings["PGPASSFILE"] { setenv("PGPASSFILE", passfile, 1) }
        return settings
    }()

    public static func setting(_ key: String) throws -> String {
        guard let value = settings[key] else { throw TestBedMissing(key: key) }
        return value
    }

    public static func dsn(_ server: String) throws -> ConnectionString {
        try ConnectionString(setting("CONTINUITY_TEST_\(server)"))
    }

    public static var active: ConnectionString { get throws { try dsn("ACTIVE") } }
    public static var passive: ConnectionString { get throws { try dsn("PASSIVE") } }
    /// A server with wal_level=replica, for checks that must refuse it.
    public static var plain: ConnectionString { get throws { try dsn("PLAIN") } }
    /// Only for the fault tests (one serialized suite): they restart it and invalidate its slots.
    public static var fragile: ConnectionString { get throws { try dsn("FRAGILE") } }
    public static var pgbouncer: ConnectionString { get throws { try dsn("PGBOUNCER") } }
    public static var pgbouncerAdmin: ConnectionString { get throws { try dsn("PGBOUNCER_ADMIN") } }

    /// The checkout's root, found from this file's path.
    public static let checkoutRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// Restarts one of the test bed's clusters and waits until it accepts connections again:
    /// a fast shutdown (sessions are ended), or with `crash` an immediate one, which loses what
    /// was not yet written (asynchronous commits still in WAL buffers). It awaits the script
    /// without holding a thread of the cooperative pool: a restart under load takes seconds,
    /// and in-process streams of other tests share the pool's two threads.
    public static func restart(_ cluster: String, crash: Bool = false) async throws {
        let script = checkoutRoot.appendingPathComponent("scripts/testbed").path
        let run = try await ProgramRun.run(script, ["restart", cluster] + (crash ? ["immediate"] : []),
                                           environment: ProcessInfo.processInfo.environment)
        guard run.status == 0 else { throw TestBedMissing(key: "a restarted \(cluster) cluster (\(run.stderr))") }
    }

    private static func readEnvFile() -> [String: String] {
        let file = checkoutRoot.appendingPathComponent(".testbed-env")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [:] }
        var settings: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            let value = assignment[assignment.index(after: equals)...]
            settings[String(assignment[..<equals])] = String(value.trimmingCharacters(in: CharacterSet(charactersIn: "'")))
        }
        return settings
    }
}

public struct TestBedMissing: Error, CustomStringConvertible {
    public let key: String
    public var description: String {
        "\(key) is not set: the test bed is not running. Start it with `scripts/testbed up` (or run scripts/test)."
    }
}

/// A lower-case name no other test uses: for databases, slots and publications, which
/// tests running in parallel on one cluster must not share.
public func uniqueName(_ prefix: String) -> String {
    let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
    return "\(prefix)_\(suffix)"
}

/// Drops every slot whose name starts with `prefix` (a stream's and the reverse one a
/// cutover makes) on the active and the passive test servers, ending first whatever
/// follows one. Best effort: for a test's clean-up, whatever state it left.
public func dropReplicationSlots(startingWith prefix: String) async {
    for server in [try? TestBed.active, try? TestBed.passive].compactMap({ $0 }) {
        _ = try? await withConnection(server) {
            try await $0.execute("""
                SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name LIKE $1 AND active_pid IS NOT NULL
                """, [prefix + "%"])
        }
        try? await waitUntil("the slots to be released", timeout: .seconds(10)) {
            try await withConnection(server) {
                try await $0.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE $1 AND active", [prefix + "%"]).scalar(Int.self) == 0
            }
        }
        _ = try? await withConnection(server) {
            try await $0.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE $1", [prefix + "%"])
        }
    }
}

/// Creates a fresh database on `server` (`creating` adds to CREATE DATABASE, such as an
/// encoding), runs `body` with a DSN for it, and drops it again, whether `body` succeeded or not.
public func withTestDatabase<T>(on server: ConnectionString, creating clauses: String = "",
                                _ body: (ConnectionString) async throws -> T) async throws -> T {
    let name = uniqueName("t")
    try await withConnection(server) { try await $0.execute("CREATE DATABASE \(name) \(clauses)") }
    do {
        let result = try await body(server.database(name))
        try await dropDatabase(name, on: server)
        return result
    } catch {
        try? await dropDatabase(name, on: server)
        throw error
    }
}

/// Drops the database and the logical slots made in it (they would block the drop, and hold
/// WAL back for good), ending a walsender still following one.
private func dropDatabase(_ name: String, on server: ConnectionString) async throws {
    try await withConnection(server) { connection in
        let slots = "FROM pg_replication_slots WHERE database = '\(name)'"
        try await connection.execute("SELECT pg_terminate_backend(active_pid) \(slots) AND active_pid IS NOT NULL")
        try await waitUntil("the slots of \(name) to be dropped") {
            try await connection.execute("SELECT pg_drop_replication_slot(slot_name) \(slots) AND NOT active")
            return try await connection.query("SELECT count(*) \(slots)").scalar(Int.self) == 0
        }
        try await connection.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}

/// Runs `body` with an open connection and closes it afterwards. `fixingSettings: false` is
/// for PgBouncer's admin console (`Connection.Options.fixesSettings`).
@discardableResult
public func withConnection<T>(_ dsn: ConnectionString, replication: Bool = false, fixingSettings: Bool = true,
                              _ body: (Connection) async throws -> T) async throws -> T {
    try await Connection.with(dsn, options: .init(replication: replication, fixesSettings: fixingSettings)) { connection in
        // Tests name their tables unqualified; continuity's own sessions run with an empty search_path.
        if fixingSettings && !replication { try await connection.execute("SET search_path = public") }
        return try await body(connection)
    }
}

/// Polls `condition` until it holds or `timeout` passes: synchronisation on a condition,
/// never on a fixed sleep. Every 100 ms: most conditions open a connection, and a SCRAM login
/// costs both sides milliseconds of CPU; polled every 20 ms by a dozen tests at once, they took
/// a core of the two from the suite. A longer `interval` suits a condition that runs a process.
public func waitUntil(_ what: String, timeout: Duration = .seconds(20), interval: Duration = .milliseconds(100),
                      _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what, timeout: timeout) }
        try await Task.sleep(for: interval)
    }
}

public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let timeout: Duration
    public var description: String { "timed out after \(timeout) waiting for \(what)" }
}
