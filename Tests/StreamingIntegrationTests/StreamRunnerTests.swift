import Logging
import OperatorErrors
import PostgresClient
import Streaming
import Testing
import TestSupport

@Suite struct StreamRunnerTests {
    static let schema = """
        CREATE TABLE accounts (id int PRIMARY KEY, balance numeric NOT NULL, note text);
        CREATE TABLE events (at int, what text);
        ALTER TABLE events REPLICA IDENTITY FULL;
        """

    static func digest(_ dsn: ConnectionString) async throws -> [String?] {
        try await withConnection(dsn) { connection in
            [try await connection.query("SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM accounts t").scalar(String.self),
             try await connection.query("SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY at, what), '')) FROM events t").scalar(String.self)]
        }
    }

    /// Slots are global to a cluster and hold WAL back: every test drops the one it made.
    static func withSlot(_ slot: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            try? await dropSlot(slot)
            throw error
        }
        try await dropSlot(slot)
    }

    /// Drops the slot if it is there (a test may have expected it gone).
    static func dropSlot(_ slot: String) async throws {
        try await withConnection(TestBed.active) {
            _ = try await $0.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", [slot])
        }
    }

    /// Two runs with --until caught-up: the second resumes where the first stopped, and the
    /// passive ends identical to the active, with no change applied twice.
    @Test func followsTheSourceAndResumes() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) { try await $0.execute(Self.schema) }
                try await withConnection(target) { try await $0.execute(Self.schema) }
                var options = StreamOptions(source: source, target: target, slot: uniqueName("stream"),
                                            publication: uniqueName("pub"), until: .caughtUp)
                options.assumeInSync = true  // both start empty
                try await StreamRunner.prepare(options, logger: Logger(label: "test"))
                try await Self.withSlot(options.slot) {
                    try await withConnection(source) { sql in
                        try await sql.execute("INSERT INTO accounts SELECT i, i * 10, 'n' || i FROM generate_series(1, 500) i")
                        try await sql.execute("INSERT INTO events VALUES (1, 'dup'), (1, 'dup'), (2, 'x')")
                        try await sql.execute("UPDATE accounts SET balance = balance + 1 WHERE id % 7 = 0")
                        try await sql.execute("BEGIN; DELETE FROM accounts WHERE id > 490; ROLLBACK")  // never committed
                    }
                    let first = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    #expect(first.transactions == 3)  // the rolled-back transaction is never sent
                    #expect(try await Self.digest(source) == Self.digest(target))

                    try await withConnection(source) { sql in
                        try await sql.execute("UPDATE events SET what = 'one' WHERE ctid = (SELECT min(ctid) FROM events WHERE what = 'dup')")
                        try await sql.execute("DELETE FROM accounts WHERE id <= 10")
                    }
                    let second = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    #expect(second.transactions == 2)
                    #expect(try await Self.digest(source) == Self.digest(target))
                }
            }
        }
    }

    /// Logical replication does not carry sequences; the stream copies them.
    @Test func copiesSequenceValues() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                let schema = "CREATE TABLE orders (id serial PRIMARY KEY, note text); CREATE SEQUENCE invoice_numbers START 1000;"
                try await withConnection(source) { try await $0.execute(schema) }
                try await withConnection(target) { try await $0.execute(schema) }
                var options = StreamOptions(source: source, target: target, slot: uniqueName("seq"),
                                            publication: uniqueName("pub"), until: .caughtUp)
                options.assumeInSync = true  // both start empty
                try await StreamRunner.prepare(options, logger: Logger(label: "test"))
                try await Self.withSlot(options.slot) {
                    try await withConnection(source) { sql in
                        try await sql.execute("INSERT INTO orders (note) SELECT 'n' FROM generate_series(1, 42)")
                        try await sql.execute("SELECT nextval('invoice_numbers') FROM generate_series(1, 7)")
                    }
                    _ = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    let values = try await withConnection(target) { connection in
                        (try await connection.query("SELECT last_value FROM orders_id_seq").scalar(Int.self),
                         try await connection.query("SELECT last_value FROM invoice_numbers").scalar(Int.self))
                    }
                    #expect(values.0 == 42)
                    #expect(values.1 == 1006)
                }
            }
        }
    }

    @Test func refusesASlotAnotherProcessFollows() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            var options = StreamOptions(source: source, target: source, slot: uniqueName("busy"), publication: "p", until: .caughtUp)
            options.slotReleaseWait = .seconds(1)
            options.assumeInSync = true
            try await StreamRunner.prepare(options, logger: Logger(label: "test"))
            try await Self.withSlot(options.slot) {
                try await withConnection(source, replication: true) { holder in
                    try await holder.startLogicalReplication(slot: options.slot, from: .zero,
                                                             options: [("proto_version", "1"), ("publication_names", "p")])
                    try await waitUntil("the slot to be active") {
                        try await withConnection(source) {
                            try await $0.query("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [options.slot]).scalar(Bool.self)
                        }
                    }
                    let refused = await #expect(throws: Refusal.self) { try await StreamRunner.prepare(options, logger: Logger(label: "test")) }
                    #expect(refused?.status == .refused)
                    try await holder.endReplication()
                }
            }
        }
    }

    /// Nothing is created on the active when a table could not be streamed.
    @Test func refusesTablesWithoutAReplicaIdentityBeforeCreatingAnything() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE keyless (a int); CREATE TABLE \"Also Keyless\" (b int)") }
            let options = StreamOptions(source: source, target: source, slot: uniqueName("ri"), publication: uniqueName("pub"), until: .caughtUp)
            let refused = await #expect(throws: Refusal.self) { try await StreamRunner.prepare(options, logger: Logger(label: "test")) }
            #expect(refused?.status == .refused)
            #expect(refused?.problem.contains(#"public."Also Keyless", public.keyless"#) == true)
            let created = try await withConnection(source) { sql in
                try await sql.query("SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1) + (SELECT count(*) FROM pg_publication)",
                                    [options.slot]).scalar(Int.self)
            }
            #expect(created == 0)
        }
    }

    /// --init copy refuses a passive that holds tables, and a slot it was not copied from,
    /// unless --clean; with it, the copy is redone from a new slot.
    @Test func initCopyRefusesWhatItCannotVouchForUnlessClean() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) { try await $0.execute(Self.schema + "INSERT INTO accounts VALUES (1, 1, 'a');") }
                try await withConnection(target) { try await $0.execute("CREATE TABLE leftover (a int)") }
                var options = StreamOptions(source: source, target: target, slot: uniqueName("init"), publication: uniqueName("pub"), until: .caughtUp)
                options.initMode = .copy
                let notEmpty = await #expect(throws: Refusal.self) { try await StreamRunner.run(options, logger: Logger(label: "test")) }
                #expect(notEmpty?.status == .refused)
                #expect(notEmpty?.problem.contains("is not empty") == true)
                #expect(try await withConnection(source) {
                    try await $0.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [options.slot]).scalar(Int.self)
                } == 0)
                // As a crash mid-copy leaves it: the slot exists, the passive has no progress for it.
                try await withConnection(target) { try await $0.execute("DROP TABLE leftover") }
                try await withConnection(source) { _ = try await $0.execute("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [options.slot]) }
                let slotWithoutCopy = await #expect(throws: Refusal.self) { try await StreamRunner.run(options, logger: Logger(label: "test")) }
                #expect(slotWithoutCopy?.fix?.contains("--clean") == true)
                options.clean = true
                let report = try await StreamRunner.run(options, logger: Logger(label: "test"))
                #expect(report.initialCopy?.rows == 1)
                #expect(try await Self.digest(source) == Self.digest(target))
            }
        }
    }

    /// Two rows swap a unique value: one set-based UPDATE trips over the constraint, changes
    /// applied one by one do not. The stream replays that stretch change by change.
    @Test func aUniqueSwapIsReplayedChangeByChange() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                let schema = "CREATE TABLE codes (id int PRIMARY KEY, code text UNIQUE); INSERT INTO codes VALUES (1, 'a'), (2, 'b');"
                try await withConnection(source) { try await $0.execute(schema) }
                try await withConnection(target) { try await $0.execute(schema) }
                var options = StreamOptions(source: source, target: target, slot: uniqueName("swap"), publication: uniqueName("pub"), until: .caughtUp)
                options.assumeInSync = true  // both hold the same two rows
                try await StreamRunner.prepare(options, logger: Logger(label: "test"))
                try await withConnection(source) { sql in
                    try await sql.execute("BEGIN; UPDATE codes SET code = 'tmp' WHERE id = 1; UPDATE codes SET code = 'a' WHERE id = 2; UPDATE codes SET code = 'b' WHERE id = 1; COMMIT")
                    try await sql.execute("INSERT INTO codes VALUES (3, 'c')")
                }
                let report = try await StreamRunner.run(options, logger: Logger(label: "test"))
                #expect(report.transactions == 2)
                let rows = try await withConnection(target) { try await $0.query("SELECT id, code FROM codes ORDER BY id").rows.map { [$0["id"], $0["code"]] } }
                #expect(rows == [["1", "b"], ["2", "a"], ["3", "c"]])
            }
        }
    }
}
