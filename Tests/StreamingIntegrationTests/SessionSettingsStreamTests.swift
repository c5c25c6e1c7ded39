import Logging
import OperatorErrors
import PostgresClient
import Streaming
import Testing
import TestSupport

/// `--init copy` and the stream carry values in a fixed text form whatever the active's and
/// the passive's databases set (issue 9, defect 1): the walsender's pgoutput text included.
@Suite struct SessionSettingsStreamTests {
    @Test func initCopyAndStreamUnderOddDatabaseSettings() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await OddSettings.apply(OddSettings.source, to: source)
                try await OddSettings.apply(OddSettings.target, to: target)
                try await withConnection(source) { sql in
                    try await sql.execute(OddSettings.schema)
                    try await OddSettings.insert(1...20, on: sql)
                }
                var options = StreamOptions(source: source, target: target, slot: uniqueName("odd"), publication: uniqueName("pub"), until: .caughtUp)
                options.initMode = .copy
                try await StreamRunnerTests.withSlot(options.slot) {
                    _ = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    #expect(try await DatabaseDigest.of(target) == DatabaseDigest.of(source))

                    try await withConnection(source) { sql in
                        try await OddSettings.insert(21...40, on: sql)
                        try await sql.execute("""
                            UPDATE typed SET d = d + 1, ts = ts + interval '1 day', iv = -iv, f8 = f8 + 0.1::float8,
                                             a = a || ARRAY[NULL, 'NULL'] WHERE id % 3 = 0;
                            DELETE FROM typed WHERE id % 7 = 0;
                            """)
                    }
                    options.initMode = .none
                    _ = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    #expect(try await DatabaseDigest.of(target) == DatabaseDigest.of(source))
                }
            }
        }
    }

    /// SQL_ASCII stores bytes in no known encoding: a stream from it is refused at its start.
    @Test func aStreamFromAnSQLASCIIDatabaseIsRefused() async throws {
        try await withTestDatabase(on: TestBed.active, creating: "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0") { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int PRIMARY KEY)") }
                var options = StreamOptions(source: source, target: target, slot: uniqueName("ascii"), publication: uniqueName("pub"), until: .caughtUp)
                options.initMode = .copy
                let refused = await #expect(throws: (any Error).self) { try await StreamRunner.run(options, logger: Logger(label: "test")) }
                #expect((refused as? any OperatorError)?.status == .refused, "\(String(describing: refused))")
                #expect((refused as? any OperatorError)?.problem.contains("SQL_ASCII") == true)
                #expect(try await withConnection(source) {
                    try await $0.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [options.slot]).scalar(Int.self)
                } == 0)
            }
        }
    }
}
