import OperatorErrors
import PostgresClient
import Snapshotting
import Testing
import TestSupport

/// A TRUNCATE that commits after a snapshot makes the table read as empty under it: the locks
/// keep one from committing during a copy, and one that slipped in before them is caught.
@Suite struct SnapshotTableLocksTests {
    @Test func aTruncateBetweenTheSnapshotAndTheLockIsCaught() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (k int); INSERT INTO t SELECT generate_series(1, 100)") }
            try await withConnection(source) { exporter in
                try await exporter.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                let snapshot = try await exporter.query("SELECT pg_export_snapshot()").scalar(String.self)
                try await withConnection(source) { try await $0.execute("TRUNCATE t") }
                try await withConnection(source) { copier in
                    try await copier.beginSnapshotTransaction(importing: snapshot)
                    let tables = try await SourceCatalogue.tables(copier)
                    let error = await #expect(throws: UsageError.self) { try await SnapshotTableLocks.acquire(tables, on: copier) }
                    #expect(error?.problem.contains("public.t was truncated or rewritten") == true)
                }
            }
        }
    }

    @Test func whileTheLocksAreHeldATruncateWaits() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (k int); INSERT INTO t VALUES (1)") }
            try await withConnection(source) { copier in
                try await copier.beginSnapshotTransaction(importing: nil)
                try await SnapshotTableLocks.acquire(try await SourceCatalogue.tables(copier), on: copier)
                try await withConnection(source) { writer in
                    try await writer.execute("SET lock_timeout = '200ms'")
                    try await writer.execute("INSERT INTO t VALUES (2)")  // rows still change
                    let blocked = await #expect(throws: ServerError.self) { try await writer.execute("TRUNCATE t") }
                    #expect(blocked?.sqlState == "55P03")
                }
                try await copier.execute("COMMIT")
            }
        }
    }
}
