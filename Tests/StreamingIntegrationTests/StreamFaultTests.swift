import Logging
import PostgresClient
import Streaming
import Testing
import TestSupport

/// Server restarts and an invalidated slot, on the test bed's `fragile` cluster, which only
/// this suite uses (serialized: it restarts the cluster).
@Suite(.serialized) struct StreamFaultTests {
    static func write(_ dsn: ConnectionString, _ range: Range<Int>) async throws {
        try await withConnection(dsn) { sql in
            for i in range {
                try await sql.execute("BEGIN; INSERT INTO accounts VALUES (\(i), \(i), 'n'); INSERT INTO events VALUES (\(i % 3), 'dup'); COMMIT")
            }
        }
    }

    static func count(_ dsn: ConnectionString) async throws -> Int {
        try await withConnection(dsn) { try await $0.query("SELECT count(*) FROM events").scalar(Int.self) }
    }

    /// A stream into `target` from `source` runs while `cluster` restarts between two batches
    /// of writes: it reconnects by itself and the passive ends identical.
    static func survivesARestart(of cluster: String, source: ConnectionString, target: ConnectionString) async throws {
        try await withConnection(source) { try await $0.execute(StreamRunnerTests.schema) }
        try await withConnection(target) { try await $0.execute(StreamRunnerTests.schema) }
        var options = StreamOptions(source: source, target: target, slot: uniqueName("fault"), publication: uniqueName("pub"), until: .never)
        options.reconnectFor = .seconds(60)
        options.assumeInSync = true  // both start empty
        try await StreamRunner.prepare(options, logger: Logger(label: "test"))
        let stream = Task { try await StreamRunner.run(options, logger: Logger(label: "test")) }
        do {
            try await write(source, 0..<100)
            try await waitUntil("the first batch on the passive", timeout: .seconds(60)) { try await count(target) == 100 }
            try await TestBed.restart(cluster)
            try await write(source, 100..<200)
            try await waitUntil("the second batch on the passive", timeout: .seconds(60)) { try await count(target) == 200 }
        } catch {
            stream.cancel()
            _ = try await stream.value  // the stream's own error, if it stopped with one, says more
            throw error
        }
        stream.cancel()
        let report = try await stream.value
        #expect(report.reason == "stopped")
        #expect(report.sessions >= 2, "the stream should have reconnected")
        #expect(report.transactions == 200)
        #expect(try await StreamRunnerTests.digest(source) == StreamRunnerTests.digest(target))
    }

    @Test func aPassiveRestartIsRetriedAndLosesNothing() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.fragile) { target in
                try await Self.survivesARestart(of: "fragile", source: source, target: target)
            }
        }
    }

    @Test func anActiveRestartIsReconnectedAndResumed() async throws {
        try await withTestDatabase(on: TestBed.fragile) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await Self.survivesARestart(of: "fragile", source: source, target: target)
            }
        }
    }

    /// max_slot_wal_keep_size is 2MB on `fragile`: write more WAL than that behind a slot,
    /// checkpoint, and the slot is lost. The stream then says to re-initialise, and how.
    @Test func anInvalidatedSlotSaysToReinitialise() async throws {
        try await withTestDatabase(on: TestBed.fragile) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) { try await $0.execute(StreamRunnerTests.schema) }
                try await withConnection(target) { try await $0.execute(StreamRunnerTests.schema) }
                var options = StreamOptions(source: source, target: target, slot: uniqueName("lost"), publication: uniqueName("pub"), until: .caughtUp)
                options.assumeInSync = true  // both start empty
                try await StreamRunner.prepare(options, logger: Logger(label: "test"))
                try await withConnection(source) { sql in
                    try await waitUntil("the slot to be invalidated", timeout: .seconds(60)) {
                        try await sql.execute("INSERT INTO events SELECT i, repeat('x', 200) FROM generate_series(1, 5000) i")
                        try await sql.execute("SELECT pg_switch_wal()")
                        try await sql.execute("CHECKPOINT")
                        return try await sql.query("SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1", [options.slot])
                            .scalar(String.self) == "lost"
                    }
                }
                let error = await #expect(throws: SlotInvalidated.self) { try await StreamRunner.run(options, logger: Logger(label: "test")) }
                #expect(error?.status == .failed)
                #expect(error?.fix?.contains("--init copy --clean") == true)
            }
        }
    }

    /// The passive runs with synchronous_commit = off (the whole test bed does) and its WAL
    /// writer waits 10 s: a commit reported as flushed must survive the passive crashing
    /// right after the stream ends, or the slot has moved past rows the passive lost.
    @Test func whatIsReportedFlushedSurvivesAPassiveCrash() async throws {
        func walWriterDelay(_ setting: String) async throws {
            try await withConnection(TestBed.fragile) { sql in
                try await sql.execute("ALTER SYSTEM \(setting)")
                try await sql.execute("SELECT pg_reload_conf()")
            }
        }
        try await walWriterDelay("SET wal_writer_delay = '10s'")
        do {
            try await crashThePassiveAfterAStream()
        } catch {
            try await walWriterDelay("RESET wal_writer_delay")
            throw error
        }
        try await walWriterDelay("RESET wal_writer_delay")
    }

    private func crashThePassiveAfterAStream() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.fragile) { target in
                try await withConnection(source) { try await $0.execute(StreamRunnerTests.schema) }
                try await withConnection(target) { try await $0.execute(StreamRunnerTests.schema) }
                var options = StreamOptions(source: source, target: target, slot: uniqueName("durable"), publication: uniqueName("pub"), until: .caughtUp)
                options.assumeInSync = true
                try await StreamRunner.prepare(options, logger: Logger(label: "test"))
                try await StreamRunnerTests.withSlot(options.slot) {
                    try await withConnection(source) { try await $0.execute("INSERT INTO accounts SELECT i, i, 'n' FROM generate_series(1, 1000) i") }
                    let report = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    #expect(report.transactions == 1)
                    try await TestBed.restart("fragile", crash: true)
                    _ = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    #expect(try await StreamRunnerTests.digest(source) == StreamRunnerTests.digest(target))
                }
            }
        }
    }
}
