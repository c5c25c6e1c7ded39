import Foundation
import DatabaseCopy
import Logging
import Snapshotting
import Testing
import TestSupport

@Suite struct SnapshotRunnerTests {
    static let logger = Logger(label: "test")

    /// A transaction left open on the source would keep the temporary slot waiting: after the
    /// limit the snapshot goes ahead with pg_export_snapshot instead of hanging.
    @Test func aLongOpenTransactionDoesNotHoldUpTheSnapshot() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1)") }
            try await withConnection(source) { open in
                try await open.execute("BEGIN; INSERT INTO t VALUES (2)")  // holds an xid, never commits
                try await withStore { store in
                    var options = SnapshotOptions(source: source, store: store, stack: "wait", jobs: 1, codec: .none, toolVersion: "test")
                    options.exactPointWait = .milliseconds(500)
                    let started = ContinuousClock.now
                    let manifest = try await SnapshotRunner.take(options, logger: Self.logger)
                    #expect(ContinuousClock.now - started < .seconds(60))  // it would wait for the open transaction for good; loose for a loaded machine
                    #expect(manifest.tables.first?.rows == 1)
                }
                try await open.execute("ROLLBACK")
            }
        }
    }

    /// A table emptied and refilled in one transaction, again and again, while snapshots are
    /// taken: every committed state has 100 rows, so a snapshot either holds 100 or is refused
    /// (the table kept changing file under it); it never holds an empty table.
    @Test func aTableTruncatedDuringSnapshotsIsNeverCopiedEmpty() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) {
                try await $0.execute("CREATE TABLE churn (k int PRIMARY KEY); INSERT INTO churn SELECT generate_series(1, 100)")
                try await $0.execute("CREATE TABLE steady (k int); INSERT INTO steady SELECT generate_series(1, 50000)")
            }
            let churner = Task {
                try await withConnection(source) { sql in
                    while !Task.isCancelled {
                        try await sql.execute("BEGIN; TRUNCATE churn; INSERT INTO churn SELECT generate_series(1, 100); COMMIT")
                    }
                }
            }
            defer { churner.cancel() }
            for _ in 0..<4 {
                try await withStore { store in
                    let options = SnapshotOptions(source: source, store: store, stack: "churn", jobs: 2, codec: .none, toolVersion: "test")
                    do {
                        let manifest = try await SnapshotRunner.take(options, logger: Self.logger)
                        #expect(manifest.tables.first { $0.name == "churn" }?.rows == 100)
                    } catch let error as TableRewrittenUnderSnapshot {
                        #expect(error.table == "public.churn")
                    }
                }
            }
            churner.cancel()
            _ = try? await churner.value
        }
    }
}
