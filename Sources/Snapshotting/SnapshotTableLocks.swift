import OperatorErrors
import PostgresClient

/// TRUNCATE, and the commands that rewrite a table (VACUUM FULL, CLUSTER, ALTER TABLE … SET
/// DATA TYPE), are not MVCC-safe: once one commits, a transaction on an older snapshot reads
/// the table as empty. A copy under an exported snapshot would then silently lose the
/// table's rows (the SIGKILL stream test caught it: its workload truncates a table now and
/// then). So right after the snapshot, one session inside it locks every table to be copied in
/// ACCESS SHARE mode, as pg_dump does: inserts, updates and deletes go on, a TRUNCATE waits
/// until the copy is done. A TRUNCATE that committed in the moment between the snapshot and
/// the lock is caught afterwards: the table's file is no longer the one the snapshot saw.
public enum SnapshotTableLocks {
    /// How long to wait for a lock another session holds (an ALTER TABLE, a VACUUM FULL).
    public static let wait = "30s"

    /// Call inside the snapshot transaction; the locks last until it ends.
    public static func acquire(_ tables: [SourceCatalogue.Table], on connection: Connection) async throws {
        guard !tables.isEmpty else { return }
        try await connection.execute("SELECT set_config('lock_timeout', '\(wait)', true)")
        do {
            try await connection.execute("LOCK TABLE \(tables.map { "ONLY \($0.qualifiedName)" }.joined(separator: ", ")) IN ACCESS SHARE MODE")
        } catch let error as ServerError where error.sqlState == "55P03" {
            throw UsageError("a table to copy stayed locked by another session for \(wait) (an ALTER TABLE, VACUUM FULL or CLUSTER?)",
                             fix: "let it finish (see pg_locks on the source), then run again", status: .failed)
        }
        let rewritten = try await connection.query("""
            SELECT format('%I.%I', n.nspname, c.relname) AS name
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = ANY($1::oid[]) AND c.relfilenode IS DISTINCT FROM pg_relation_filenode(c.oid)
            ORDER BY 1
            """, ["{" + tables.map { String($0.oid) }.joined(separator: ",") + "}"]).rows.compactMap { $0["name"] }
        guard rewritten.isEmpty else {
            throw UsageError("\(rewritten.joined(separator: ", ")) was truncated or rewritten just after the snapshot was taken, so the snapshot cannot see its rows",
                             fix: "run it again", status: .failed)
        }
    }
}
