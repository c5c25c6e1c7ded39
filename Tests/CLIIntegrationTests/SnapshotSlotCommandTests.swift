import Foundation
import PostgresClient
import Testing
import TestSupport

/// From the command line: what `snapshot --slot` and `stream` refuse, with which exit status,
/// and that a refusal leaves nothing behind on the active.
@Suite struct SnapshotSlotCommandTests {
    static func dropSlot(_ slot: String) async throws {
        try await withConnection(TestBed.active) {
            _ = try await $0.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", [slot])
        }
    }

    /// What the active holds of a stream: slots named `slot` plus publications named `publication`.
    static func created(on source: ConnectionString, slot: String, publication: String) async throws -> Int {
        try await withConnection(source) {
            try await $0.query("""
                SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1) + (SELECT count(*) FROM pg_publication WHERE pubname = $2)
                """, [slot, publication]).scalar(Int.self)
        }
    }

    /// The defect: a passive holding data, with no progress and no snapshot slot, used to get a
    /// slot made at "now" (exit 0, the gap lost). Now refused, with nothing made on the active;
    /// `--assume-in-sync` lets it go, and a later run without the flag resumes.
    @Test func aPassiveWithDataIsRefusedUnlessAssumedInSync() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                let schema = "CREATE TABLE accounts (id int PRIMARY KEY, balance int); INSERT INTO accounts SELECT i, 0 FROM generate_series(1, 10) i;"
                try await withConnection(source) { try await $0.execute(schema) }
                try await withConnection(target) { try await $0.execute(schema) }
                let slot = uniqueName("cli_gap")
                let publication = uniqueName("pub")
                let arguments = ["stream", "--source", source.conninfo, "--target", target.conninfo, "--slot", slot,
                                 "--publication", publication, "--until", "caught-up"]
                let refused = try await CommandLineRun.run(arguments)
                #expect(refused.status == 3, "\(refused.stderr)")
                #expect(refused.stderr.contains("has no progress for slot \(slot)"))
                #expect(refused.stderr.contains("--init copy"))
                #expect(refused.stderr.contains("--assume-in-sync"))
                #expect(try await Self.created(on: source, slot: slot, publication: publication) == 0)

                do {
                    let assumed = try await CommandLineRun.run(arguments + ["--assume-in-sync"])
                    #expect(assumed.status == 0, "\(assumed.stderr)")
                    try await withConnection(source) { try await $0.execute("UPDATE accounts SET balance = 5 WHERE id = 3") }
                    let resumed = try await CommandLineRun.run(arguments)
                    #expect(resumed.status == 0, "\(resumed.stderr)")
                    let balance = try await withConnection(target) { try await $0.query("SELECT balance FROM accounts WHERE id = 3").scalar(Int.self) }
                    #expect(balance == 5)
                } catch {
                    try? await Self.dropSlot(slot)
                    throw error
                }
                try await Self.dropSlot(slot)
            }
        }
    }

    /// A slot's position cannot be moved back to a new snapshot: an existing name is refused
    /// (exit 3). A server that cannot make a logical slot fails `--slot` instead of falling
    /// back to a snapshot without one. Neither leaves a snapshot in the store.
    @Test func snapshotSlotRefusesAnExistingSlotAndAServerWithoutLogicalWAL() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)") }
            let slot = uniqueName("cli_taken")
            try await withConnection(source) { _ = try await $0.execute("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]) }
            do {
                try await withDirectory { store in
                    let taken = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)",
                                                              "--stack", "s", "--slot", slot])
                    #expect(taken.status == 3, "\(taken.stderr)")
                    #expect(taken.stderr.contains("slot \(slot) already exists"))
                    #expect(taken.stderr.contains("choose another --slot"))

                    let plain = try await CommandLineRun.run(["snapshot", "--source", TestBed.plain.conninfo, "--store", "file://\(store)",
                                                              "--stack", "s", "--slot", uniqueName("cli_plain")])
                    #expect(plain.status == 3, "\(plain.stderr)")
                    #expect(plain.stderr.contains("wal_level"))

                    let list = try await CommandLineRun.run(["snapshots", "list", "--store", "file://\(store)", "--stack", "s"])
                    #expect(list.stdout.contains("no snapshots of stack s"))
                }
            } catch {
                try? await Self.dropSlot(slot)
                throw error
            }
            try await Self.dropSlot(slot)
        }
    }

    /// SIGTERM while `snapshot --slot` copies: exit 1 saying so, its objects removed and its
    /// slot dropped (it would otherwise hold the source's WAL for good). A lock on the table
    /// holds the copy until the signal has been sent.
    @Test func sigtermDuringASnapshotWithASlotLeavesNothingBehind() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) {
                try await $0.execute("CREATE TABLE big (id int PRIMARY KEY, v text); INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 1000) g")
            }
            let store = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("sigterm_store"))
            try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: store) }
            let slot = uniqueName("cli_stop")
            let arguments = ["snapshot", "--source", source.conninfo, "--store", store.absoluteString, "--stack", "stopped",
                             "--slot", slot, "--publication", uniqueName("pub"), "--jobs", "1"]
            let stopped = try await withConnection(source) { lock in
                try await lock.execute("BEGIN; LOCK TABLE big IN ACCESS EXCLUSIVE MODE")
                let running = try RunningCommand(arguments)
                try await waitUntil("the snapshot to wait for the lock", timeout: .seconds(60)) {
                    try await withConnection(source) {
                        try await $0.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
                            .scalar(Int.self) > 0
                    }
                }
                running.signal(SIGTERM)
                try await waitUntil("the signal to be taken") { running.stderrSoFar.contains("stop signal received") }
                try await lock.execute("ROLLBACK")
                return try await running.finished()
            }
            let slots = try await Self.created(on: source, slot: slot, publication: "")
            if slots > 0 { try await Self.dropSlot(slot) }
            #expect(stopped.status == 1, "\(stopped.stderr)")
            // The lock transaction holds an xid (an ACCESS EXCLUSIVE lock is WAL-logged), so the
            // slot's creation waits for it too: on a loaded machine its 10 s limit can come
            // before the signal is taken. Either way it must end as a failure leaving nothing.
            #expect(stopped.stderr.contains("stopped before it finished") || stopped.stderr.contains("kept it waiting"), "\(stopped.stderr)")
            #expect(slots == 0)
            let left = (FileManager.default.enumerator(atPath: store.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix("manifest.json") }
            #expect(left.isEmpty)
        }
    }
}
