import DatabaseCopy
import PostgresClient
import Testing
import TestSupport

/// A TRUNCATE that commits after a snapshot makes the table read as empty under it: the locks
/// keep one from committing during a copy, and one that slipped in before them is caught.
@Suite struct SnapshotTableLocksTests {
    /// `body` gets a snapshot exported (and kept alive) by another session on `source`.
    static func withExportedSnapshot(_ source: ConnectionString, _ body: (String) async throws -> Void) async throws {
        try await withConnection(source) { exporter in
            try await exporter.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            try await body(try await exporter.query("SELECT pg_export_snapshot()").scalar(String.self))
        }
    }

    @Test func aTruncateBetweenTheSnapshotAndTheLockIsCaught() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (k int); INSERT INTO t SELECT generate_series(1, 100)") }
            let tables = try await withConnection(source) { try await SourceInventory.tables($0) }
            try await Self.withExportedSnapshot(source) { snapshot in
                try await withConnection(source) { try await $0.execute("TRUNCATE t") }
                try await withConnection(source) { copier in
                    try await SnapshotTableLocks.begin(on: copier, importing: snapshot, locking: SnapshotTableLocks.statement(for: tables))
                    let error = await #expect(throws: TableRewrittenUnderSnapshot.self) { try await SnapshotTableLocks.verify(tables[0], on: copier) }
                    #expect(error?.table == "public.t")
                }
            }
        }
    }

    @Test func whileTheLocksAreHeldATruncateWaitsAndRowsStillChange() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (k int); INSERT INTO t VALUES (1)") }
            let tables = try await withConnection(source) { try await SourceInventory.tables($0) }
            try await Self.withExportedSnapshot(source) { snapshot in
                try await withConnection(source) { copier in
                    try await SnapshotTableLocks.begin(on: copier, importing: snapshot, locking: SnapshotTableLocks.statement(for: tables))
                    try await SnapshotTableLocks.verify(tables[0], on: copier)
                    try await withConnection(source) { writer in
                        try await writer.execute("SET lock_timeout = '200ms'")
                        try await writer.execute("INSERT INTO t VALUES (2)")
                        let blocked = await #expect(throws: ServerError.self) { try await writer.execute("TRUNCATE t") }
                        #expect(blocked?.sqlState == "55P03")
                    }
                    try await copier.execute("COMMIT")
                }
            }
        }
    }
}
