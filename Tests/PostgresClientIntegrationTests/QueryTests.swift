import PostgresClient
import Testing
import TestSupport

@Suite struct QueryTests {
    @Test func returnsTypedRowsAndNulls() async throws {
        try await withConnection(TestBed.active) { connection in
            let result = try await connection.query(
                "SELECT 42::int AS answer, 'x'::text AS name, NULL::text AS nothing, true AS yes, 1.5::float8 AS ratio")
            let row = try #require(result.rows.first)
            #expect(try row.decode("answer", as: Int.self) == 42)
            #expect(try row.decode("name", as: String.self) == "x")
            #expect(try row.decodeIfPresent("nothing", as: String.self) == nil)
            #expect(try row.decode("yes", as: Bool.self))
            #expect(try row.decode("ratio", as: Double.self) == 1.5)
            #expect(throws: DecodeError.self) { try row.decode("nothing", as: String.self) }
        }
    }

    @Test func sendsParametersAsValuesNeverAsSQL() async throws {
        try await withConnection(TestBed.active) { connection in
            let hostile = "'; DROP TABLE pg_class; --"
            let result = try await connection.query("SELECT $1::text AS echo, $2::int IS NULL AS missing", [hostile, nil])
            #expect(result.rows[0]["echo"] == hostile)
            #expect(result.rows[0]["missing"] == "t")
        }
    }

    @Test func serverErrorsCarrySQLStateDetailAndHint() async throws {
        try await withConnection(TestBed.active) { connection in
            let error = await #expect(throws: ServerError.self) {
                try await connection.execute("""
                    DO $$ BEGIN RAISE EXCEPTION 'boom' USING ERRCODE = '22012', DETAIL = 'the detail', HINT = 'the hint'; END $$
                    """)
            }
            #expect(error?.sqlState == "22012")
            #expect(error?.message == "boom")
            #expect(error?.detail == "the detail")
            #expect(error?.hint == "the hint")
            // The connection is still usable after an error.
            let afterwards = try await connection.query("SELECT 1").scalar(Int.self)
            #expect(afterwards == 1)
        }
    }

    @Test func reportsAffectedRows() async throws {
        try await withTestDatabase(on: TestBed.active) { dsn in
            try await withConnection(dsn) { connection in
                try await connection.execute("CREATE TABLE t (id int)")
                #expect(try await connection.execute("INSERT INTO t SELECT generate_series(1, 7)") == 7)
            }
        }
    }

    @Test func cancelStopsARunningQuery() async throws {
        try await withConnection(TestBed.active) { connection in
            let marker = uniqueName("sleep")
            let sleeping = Task { try await connection.execute("SELECT pg_sleep(600) /* \(marker) */") }
            try await withConnection(TestBed.active) { observer in
                try await waitUntil("the query to start") {
                    try await observer.query("SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 AND state = 'active'",
                                             ["%\(marker) */"]).scalar(Int.self) == 1
                }
            }
            let started = ContinuousClock.now
            connection.cancel()
            let error = await #expect(throws: ServerError.self) { try await sleeping.value }
            #expect(error?.isQueryCanceled == true)
            #expect(ContinuousClock.now - started < .seconds(120))  // not the 600 s sleep; loose for a loaded machine
        }
    }
}

/// `runInOneWrite` against a real server, which speaks the same simple protocol as PgBouncer's
/// console: every answer is read, the first error is thrown naming its command, and the
/// session is still in step with libpq afterwards.
@Suite struct OneWriteTests {
    @Test func everyCommandIsAnsweredAndTheSessionStaysUsable() async throws {
        try await withConnection(TestBed.active) { connection in
            try await connection.perform { try $0.runInOneWrite(["SELECT 1", "SET application_name = 'one_write'"],
                                                                answeringBy: .now + .seconds(10)) }
            #expect(try await connection.query("SHOW application_name").scalar(String.self) == "one_write")
            let error = await #expect(throws: ServerError.self) {
                try await connection.perform { try $0.runInOneWrite(["SELECT 1/0", "SET application_name = 'after'"],
                                                                    answeringBy: .now + .seconds(10)) }
            }
            #expect(error?.sqlState == "22012")
            #expect(error?.statement == "SELECT 1/0")
            // The command after the failed one still ran (each query is its own transaction).
            #expect(try await connection.query("SELECT current_setting('application_name')").scalar(String.self) == "after")
        }
    }
}
