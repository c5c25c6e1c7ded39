import PostgresClient
import Testing
import TestSupport

/// `sendPipeline` / `collectPipeline`: batches answered oldest first, each statement's
/// affected-row count in order, and an error reported for the statement that raised it.
@Suite struct PipelineTests {
    @Test func rowCountsComeBackInOrderBatchByBatch() async throws {
        try await withTestDatabase(on: TestBed.active) { dsn in
            try await withConnection(dsn) { connection in
                try await connection.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
                try await connection.sendPipeline([
                    PipelinedStatement("BEGIN"),
                    PipelinedStatement("INSERT INTO t SELECT i, 'x' FROM generate_series(1, 3) i"),
                    PipelinedStatement("UPDATE t SET v = 'y' WHERE id <= 2"),
                    PipelinedStatement("DELETE FROM t WHERE id = 3"),
                    PipelinedStatement("COMMIT"),
                ])
                // A second batch goes out before the first is collected; prepared statements reuse one plan.
                let insert = "INSERT INTO t VALUES ($1, $2)"
                try await connection.sendPipeline([
                    PipelinedStatement(insert, ["10", "a"], prepared: true),
                    PipelinedStatement(insert, ["11", nil], prepared: true),
                    PipelinedStatement("UPDATE t SET v = $1", ["z"]),
                ])
                #expect(try await connection.collectPipeline() == [nil, 3, 2, 1, nil])
                #expect(try await connection.collectPipeline() == [1, 1, 4])
                #expect(try await connection.collectPipeline() == [])  // nothing outstanding
                let rows = try await connection.query("SELECT id, v FROM t ORDER BY id").rows.map { "\($0["id"]!)=\($0["v"] ?? "")" }
                #expect(rows == ["1=z", "2=z", "10=z", "11=z"])
            }
        }
    }

    /// The error names the statement that raised it, the statements after it are skipped, and
    /// nothing of the batch's transaction is committed; the connection stays usable.
    @Test func anErrorInTheMiddleIsReportedForItsStatementAndNothingCommits() async throws {
        try await withTestDatabase(on: TestBed.active) { dsn in
            try await withConnection(dsn) { connection in
                try await connection.execute("CREATE TABLE t (id int PRIMARY KEY)")
                try await connection.sendPipeline([
                    PipelinedStatement("BEGIN"),
                    PipelinedStatement("INSERT INTO t VALUES (1)"),
                    PipelinedStatement("INSERT INTO t VALUES (1) /* the duplicate */"),
                    PipelinedStatement("INSERT INTO t VALUES (2)"),
                    PipelinedStatement("COMMIT"),
                ])
                let error = await #expect(throws: ServerError.self) { try await connection.collectPipeline() }
                #expect(error?.sqlState == "23505")  // unique_violation
                #expect(error?.statement == "INSERT INTO t VALUES (1) /* the duplicate */")
                // The transaction the batch opened is left aborted, not committed.
                let aborted = await #expect(throws: ServerError.self) { try await connection.query("SELECT 1") }
                #expect(aborted?.sqlState == "25P02")  // in_failed_sql_transaction
                try await connection.execute("ROLLBACK")
                #expect(try await connection.query("SELECT 1").scalar(Int.self) == 1)
            }
            let rows = try await withConnection(dsn) { try await $0.query("SELECT count(*) FROM t").scalar(Int.self) }
            #expect(rows == 0)
        }
    }

    /// A prepare skipped because an earlier statement failed was never made: the next batch
    /// prepares it again instead of running a name the server does not know.
    @Test func aPrepareSkippedByAnErrorIsSentAgain() async throws {
        try await withTestDatabase(on: TestBed.active) { dsn in
            try await withConnection(dsn) { connection in
                try await connection.execute("CREATE TABLE t (id int PRIMARY KEY)")
                let insert = "INSERT INTO t VALUES ($1)"
                try await connection.sendPipeline([
                    PipelinedStatement("SELECT 1 / 0"),
                    PipelinedStatement(insert, ["1"], prepared: true),
                ])
                let error = await #expect(throws: ServerError.self) { try await connection.collectPipeline() }
                #expect(error?.sqlState == "22012")  // division_by_zero
                #expect(error?.statement == "SELECT 1 / 0")
                try await connection.sendPipeline([PipelinedStatement(insert, ["2"], prepared: true)])
                #expect(try await connection.collectPipeline() == [1])
                #expect(try await connection.query("SELECT array_agg(id)::text FROM t").scalar(String.self) == "{2}")
            }
        }
    }
}
