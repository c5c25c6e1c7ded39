import Foundation
import PostgresClient
import Synchronization
import Testing
import TestSupport

/// An active and a passive database with the same tables, a `continuity stream` slot between
/// them, and a private PgBouncer whose `app` line points at the active; all removed afterwards.
struct CutoverFixture: Sendable {
    let source: ConnectionString
    let target: ConnectionString
    let slot: String
    let bouncer: PrivatePgBouncer
    let journal: String

    static let schema = """
        CREATE TABLE orders (id bigserial PRIMARY KEY, client int NOT NULL, note text);
        CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
        INSERT INTO accounts SELECT i, 0 FROM generate_series(1, 20) i;
        """

    static func with(_ body: (CutoverFixture) async throws -> Void) async throws {
        try await HeavyTests.shared.run { try await withFixture(body) }
    }

    private static func withFixture(_ body: (CutoverFixture) async throws -> Void) async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) { try await $0.execute(schema) }
                try await withConnection(target) { try await $0.execute(schema) }
                let slot = uniqueName("cut")
                let prepared = try await CommandLineRun.run(["stream", "--source", source.conninfo, "--target", target.conninfo,
                                                             "--slot", slot, "--until", "caught-up", "--assume-in-sync"])
                #expect(prepared.status == 0, "\(prepared.stderr)")
                let line = "host=127.0.0.1 port=\(source["port"] ?? "5432") dbname=\(source["dbname"] ?? "")"
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-cutover-\(UUID())")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                do {
                    try await PrivatePgBouncer.with(databases: ["app": line]) { bouncer in
                        try await body(CutoverFixture(source: source, target: target, slot: slot, bouncer: bouncer,
                                                      journal: directory.appendingPathComponent("journal").path))
                    }
                } catch {
                    await dropReplicationSlots(startingWith: slot)
                    throw error
                }
                await dropReplicationSlots(startingWith: slot)
            }
        }
    }

    func cutoverArguments(_ extra: [String] = []) -> [String] {
        ["cutover", "--json", "--source", source.conninfo, "--target", target.conninfo, "--slot", slot, "--router", "pgbouncer",
         "--pgbouncer-admin", bouncer.admin.conninfo, "--pgbouncer-config", bouncer.configPath, "--pgbouncer-database", "app",
         "--journal", journal] + extra
    }

    func streamArguments() -> [String] {
        ["stream", "--json", "--source", source.conninfo, "--target", target.conninfo, "--slot", slot]
    }

    func waitForStream() async throws {
        try await waitUntil("the stream to follow the slot") {
            try await withConnection(source) {
                try await $0.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active", [slot]).scalar(Int.self) == 1
            }
        }
    }

    /// Which node PgBouncer's `app` sends a new transaction to.
    func routedPort() async throws -> Int {
        try await withConnection(try bouncer.client("app"), fixingSettings: false) {
            try await $0.query("SELECT inet_server_port()").scalar(Int.self)
        }
    }

    static func readOnly(_ dsn: ConnectionString) async throws -> Bool {
        try await withConnection(dsn) { try await $0.query("SELECT current_setting('default_transaction_read_only')").scalar(String.self) == "on" }
    }

    /// Whether the forward slot is still on the old active.
    func forwardSlotOnSource() async throws -> Bool {
        try await withConnection(source) {
            try await $0.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [slot]).scalar(Int.self) == 1
        }
    }

    static func orderIDs(_ dsn: ConnectionString) async throws -> Set<Int64> {
        try await withConnection(dsn) { Set(try await $0.query("SELECT id FROM orders").rows.map { try $0.decode("id", as: Int64.self) }) }
    }
}

/// Clients inserting through PgBouncer until stopped: some on one long-lived connection, some
/// with a new connection per transaction (`pgbench -C`). Each keeps the ids the server
/// acknowledged and every error it saw.
final class ClientLoad: Sendable {
    private let shared = Shared()
    private struct State {
        var acknowledged: Set<Int64> = []
        var errors: [String] = []
        var stop = false
        /// The longest a transaction took, its connection included for a per-transaction client.
        var longest: Duration = .zero
    }
    private final class Shared: Sendable { let state = Mutex(State()) }
    private let tasks: [Task<Void, Never>]

    init(_ client: ConnectionString, longLived: Int = 2, perTransaction: Int = 2) {
        var tasks: [Task<Void, Never>] = []
        for worker in 0..<(longLived + perTransaction) {
            let fresh = worker >= longLived
            let shared = self.shared
            tasks.append(Task {
                let state = shared
                var connection: Connection?
                while !state.state.withLock({ $0.stop }) {
                    let started = ContinuousClock.now
                    do {
                        if connection == nil { connection = try await Connection.connect(client, options: .init(fixesSettings: false)) }
                        let id = try await connection!.query("INSERT INTO public.orders (client) VALUES ($1) RETURNING id", [String(worker)])
                            .scalar(Int64.self)
                        let took = ContinuousClock.now - started
                        state.state.withLock { _ = $0.acknowledged.insert(id); $0.longest = max($0.longest, took) }
                        if fresh { await connection?.close(); connection = nil }
                    } catch {
                        state.state.withLock { $0.errors.append("\(error)") }
                        await connection?.close()
                        connection = nil
                    }
                }
                await connection?.close()
            })
        }
        self.tasks = tasks
    }

    /// A test that throws before `stop()` must not leave its clients looping on a PgBouncer
    /// that is gone (each refused connect is immediate): they end at their next turn.
    deinit { shared.state.withLock { $0.stop = true } }

    /// Stops the clients; returns what they saw.
    func stop() async -> (acknowledged: Set<Int64>, errors: [String]) {
        shared.state.withLock { $0.stop = true }
        for task in tasks { await task.value }
        return shared.state.withLock { ($0.acknowledged, $0.errors) }
    }

    var acknowledgedSoFar: Int { shared.state.withLock { $0.acknowledged.count } }

    var longestSoFar: Duration { shared.state.withLock { $0.longest } }
}
