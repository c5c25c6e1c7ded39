import Compression
import PostgresClient
import ProgressDisplay
import SnapshotFormat
import SnapshotStore

/// The source's large objects into the snapshot, under its exported snapshot: their metadata
/// (oid, owner, ACL, comment) as one part, their contents as another. pg_dump carries them
/// too; a restored table's `oid` column would otherwise point at nothing.
enum LargeObjectCopy {
    /// Nil when the source has none. Reading a large object needs SELECT on it (as pg_dump
    /// does): a role without it gets `permission denied for large object`, never a silent gap.
    static func copy(on connection: Connection, layout: SnapshotLayout, codec: Codec, store: any SnapshotStore,
                     progress: ProgressMeter) async throws -> Manifest.LargeObjects? {
        let count = try await connection.query("SELECT count(*) FROM pg_catalog.pg_largeobject_metadata").scalar(Int64.self)
        guard count > 0 else { return nil }
        let metadata = try await part(
            "COPY (SELECT oid, pg_catalog.pg_get_userbyid(lomowner), lomacl, pg_catalog.obj_description(oid, 'pg_largeobject')"
                + " FROM pg_catalog.pg_largeobject_metadata ORDER BY oid) TO STDOUT",
            key: layout.largeObjects("metadata", fileExtension: codec.fileExtension), connection, codec, store, progress)
        // Chunks of at most 1 MiB, read until one comes back short: no object is held whole
        // in memory, and none needs to fit in one bytea (1 GB) or one COPY row.
        let chunk = Manifest.LargeObjects.chunkSize
        let data = try await part("""
            COPY (WITH RECURSIVE chunks (loid, off, data) AS (
                    SELECT oid, 0::bigint, pg_catalog.lo_get(oid, 0, \(chunk)) FROM pg_catalog.pg_largeobject_metadata
                    UNION ALL
                    SELECT loid, off + \(chunk), pg_catalog.lo_get(loid, off + \(chunk), \(chunk)) FROM chunks
                    WHERE pg_catalog.length(data) = \(chunk))
                  SELECT loid, off, data FROM chunks) TO STDOUT
            """, key: layout.largeObjects("data", fileExtension: codec.fileExtension), connection, codec, store, progress)
        return Manifest.LargeObjects(count: count, metadata: metadata, data: data)
    }

    private static func part(_ sql: String, key: String, _ connection: Connection, _ codec: Codec, _ store: any SnapshotStore,
                             _ progress: ProgressMeter) async throws -> Manifest.Part {
        let output = try await PartCopier.copy(sql, on: connection, codec: codec, store: store, key: key, progress: progress)
        return Manifest.Part(index: 0, path: key, rows: output.rows, rawBytes: output.rawBytes,
                             storedBytes: output.storedBytes, sha256: output.sha256)
    }
}
