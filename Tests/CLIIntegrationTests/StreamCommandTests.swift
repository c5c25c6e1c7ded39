import Foundation
import PostgresClient
import Testing
import TestSupport

@Suite struct StreamCommandTests {
    static let schema = """
        CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
        CREATE TABLE events (k int, what text);
        ALTER TABLE events REPLICA IDENTITY FULL;
        INSERT INTO accounts SELECT i, 0 FROM generate_series(0, 49) i;
        """

    static func digest(_ dsn: ConnectionString) async throws -> [String] {
        try await withConnection(dsn) { connection in
            [try await connection.query("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM accounts t").scalar(String.self),
             try await connection.query("SELECT count(*)::text || md5(coalesce(string_agg(t::text, ',' ORDER BY k, what), '')) FROM events t").scalar(String.self)]
        }
    }

    static func progress(_ target: ConnectionString, slot: String) async throws -> String? {
        try await withConnection(target) { connection in
            guard try await connection.query("SELECT to_regclass('continuity.stream_progress') IS NOT NULL").scalar(Bool.self) else { return nil }
            return try await connection.query("SELECT lsn::text FROM continuity.stream_progress WHERE slot = $1", [slot]).rows.first?["lsn"] ?? nil
        }
    }

    /// A source and a passive with the same tables (the passive holding the starting rows), a
    /// slot made by `--assume-in-sync`, and cleanup of the slot afterwards.
    static func withPair(_ body: (ConnectionString, ConnectionString, String) async throws -> Void) async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) { try await $0.execute(Self.schema) }
                try await withConnection(target) { try await $0.execute(Self.schema) }
                let slot = uniqueName("cli_stream")
                let prepared = try await CommandLineRun.run(["stream", "--source", source.conninfo, "--target", target.conninfo,
                                                             "--slot", slot, "--publication", "p", "--until", "caught-up", "--assume-in-sync"])
                #expect(prepared.status == 0, "\(prepared.stderr)")
                do {
                    try await body(source, target, slot)
                } catch {
                    try? await withConnection(TestBed.active) { _ = try await $0.execute("SELECT pg_drop_replication_slot($1)", [slot]) }
                    throw error
                }
                try await withConnection(TestBed.active) { _ = try await $0.execute("SELECT pg_drop_replication_slot($1)", [slot]) }
            }
        }
    }

    static func streamArguments(_ source: ConnectionString, _ target: ConnectionString, _ slot: String) -> [String] {
        ["stream", "--json", "--source", source.conninfo, "--target", target.conninfo, "--slot", slot, "--publication", "p"]
    }

    static func workload(_ source: ConnectionString, transactions: Range<Int>) async throws {
        try await withConnection(source) { sql in
            for i in transactions {
                try await sql.execute("BEGIN; UPDATE accounts SET balance = balance + \(i) WHERE id = \(i % 50); INSERT INTO events VALUES (\(i % 7), 'dup'); COMMIT")
            }
        }
    }

    @Test func sigtermStopsCleanlyAndReports() async throws {
        try await Self.withPair { source, target, slot in
            try await Self.workload(source, transactions: 0..<20)
            let running = try RunningCommand(Self.streamArguments(source, target, slot))
            // Rows, not progress: progress also moves past other databases' WAL before any of
            // this workload has been applied (seen on a loaded CI machine).
            try await waitUntil("the stream to apply some of the workload", timeout: .seconds(60)) {
                try await withConnection(target) { try await $0.query("SELECT count(*) FROM events").scalar(Int.self) } > 0
            }
            running.signal(SIGTERM)
            let run = try await running.finished()
            #expect(run.status == 0, "\(run.stderr)")
            struct Report: Decodable { let reason: String; let transactions: Int }
            let report = try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8))
            #expect(report.reason == "stopped")
            #expect(report.transactions >= 1)
            // Stopped wherever it was: a resumed run then finds exactly the rest.
            let resumed = try await CommandLineRun.run(Self.streamArguments(source, target, slot) + ["--until", "caught-up"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try await Self.digest(source) == Self.digest(target))
            let events = try await withConnection(target) { try await $0.query("SELECT count(*) FROM events").scalar(Int.self) }
            #expect(events == 20)
        }
    }

    /// `--init copy`, then kill -9 at five random moments while the active runs the mixed
    /// workload; each restart resumes (the copy is not redone). After a final catch-up every
    /// table is identical: nothing lost, nothing applied twice (the keyless FULL tables would
    /// show a transaction applied twice as an extra row).
    @Test func sigkillAtRandomMomentsDuringAMixedWorkloadLosesAndRepeatsNothing() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) { try await $0.execute(RichSchema.sql + MixedWorkload.extraTables) }
                let slot = uniqueName("cli_kill")
                let arguments = Self.streamArguments(source, target, slot) + ["--init", "copy"]
                let truncating = WorkloadSwitch(false)
                let writer = Task { try await MixedWorkload.run(on: source, truncating: truncating) }
                var lastProgress: String?
                for _ in 0..<5 {
                    let running = try RunningCommand(arguments)
                    do {
                        try await waitUntil("the stream to make progress", timeout: .seconds(60)) {
                            try await Self.progress(target, slot: slot) != lastProgress
                        }
                    } catch {
                        Issue.record("the stream's stderr so far:\n\(running.stderrSoFar)")
                        throw error
                    }
                    truncating.turnOn()  // the copy is done
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0..<300)))  // a random moment, not a synchronisation
                    running.signal(SIGKILL)
                    #expect(try await running.finished().status != 0)
                    lastProgress = try await Self.progress(target, slot: slot)
                }
                writer.cancel()
                #expect(try await writer.value > 24)
                let final = try await CommandLineRun.run(arguments + ["--until", "caught-up"])
                #expect(final.status == 0, "\(final.stderr)")
                for dsn in [source, target] {
                    try await withConnection(dsn) { try await $0.execute("REFRESH MATERIALIZED VIEW totals") }
                }
                let (active, passive) = (try await DatabaseDigest.of(source), try await DatabaseDigest.of(target))
                #expect(active == passive, "active:\n\(active)\npassive:\n\(passive)")

                let status = try await CommandLineRun.run(["stream", "status", "--json", "--source", source.conninfo,
                                                           "--target", target.conninfo, "--slot", slot])
                #expect(status.status == 0, "\(status.stderr)")
                struct Status: Decodable { let lag_bytes: Int64; let applied_lsn: String?; let wal_status: String }
                let decoded = try JSONDecoder().decode(Status.self, from: Data(status.stdout.utf8))
                #expect(decoded.applied_lsn != nil)
                #expect(decoded.wal_status == "reserved")
            }
        }
    }

    /// SIGTERM during `--init copy` stops it, exits 1 and says how to start over; the re-run
    /// with --clean then copies and streams to an identical passive. To stop it mid-copy for
    /// sure, a lock on the source table holds the copy until the signal has been sent.
    @Test func sigtermDuringTheInitialCopyStopsItAndSaysToClean() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) {
                    try await $0.execute("CREATE TABLE big (id int PRIMARY KEY, v text); INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 100000) g")
                }
                let slot = uniqueName("cli_init")
                let arguments = Self.streamArguments(source, target, slot) + ["--init", "copy", "--until", "caught-up", "--jobs", "2"]
                let stopped = try await withConnection(source) { lock in
                    try await lock.execute("BEGIN; LOCK TABLE big IN ACCESS EXCLUSIVE MODE")
                    let running = try RunningCommand(arguments)
                    try await waitUntil("the copy to wait for the lock", timeout: .seconds(90)) {
                        try await withConnection(source) {
                            try await $0.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
                                .scalar(Int.self) > 0
                        }
                    }
                    running.signal(SIGTERM)
                    try await waitUntil("the signal to be taken") { running.stderrSoFar.contains("stopping") }
                    try await lock.execute("ROLLBACK")
                    return try await running.finished()
                }
                #expect(stopped.status == 1, "\(stopped.stderr)")
                #expect(stopped.stderr.contains("--init copy --clean"))
                let again = try await CommandLineRun.run(arguments + ["--clean"])
                #expect(again.status == 0, "\(again.stderr)")
                #expect(try await DatabaseDigest.of(source) == DatabaseDigest.of(target))
            }
        }
    }

    @Test func badStreamInputIsRefusedWithTheFix() async throws {
        let badInit = try await CommandLineRun.run(["stream", "--source", "host=127.0.0.1", "--target", "host=127.0.0.1", "--init", "snapshot"])
        #expect(badInit.status == 2)
        #expect(badInit.stderr.contains("--init snapshot is not a mode"))
        let noSlot = try await CommandLineRun.run(["stream", "status", "--source", TestBed.active.conninfo,
                                                   "--target", TestBed.passive.conninfo, "--slot", "no_such_slot"])
        #expect(noSlot.status == 2)
        #expect(noSlot.stderr.contains("there is no slot no_such_slot"))
    }
}
