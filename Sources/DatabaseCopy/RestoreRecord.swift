import PostgresClient
import PostgresTypes
import SnapshotFormat

/// A row of `continuity.restores` on a restored database: which snapshot it came from, and
/// for a snapshot taken with `--slot`, the slot and LSN a stream into it starts from.
public struct RestoreRecord: Sendable, Equatable {
    /// The advisory lock class ('crst') a restore holds, with hashtext(current_database()), on
    /// its target database for its whole run; the agent's scheduler reads it in pg_locks.
    public static let inProgressLock: Int32 = 0x6372_7374

    public let snapshotID: String
    public let stack: String
    /// The snapshot's LSN: the restored data holds every transaction committed before it.
    public let lsn: LSN
    /// The slot the snapshot kept at `lsn`, and its publication; nil when it kept none (or was
    /// restored by a continuity that did not record it).
    public let slot: Manifest.KeptSlot?
    public let sourceSystemIdentifier: String

    public init(snapshotID: String, stack: String, lsn: LSN, slot: Manifest.KeptSlot?, sourceSystemIdentifier: String) {
        self.snapshotID = snapshotID
        self.stack = stack
        self.lsn = lsn
        self.slot = slot
        self.sourceSystemIdentifier = sourceSystemIdentifier
    }

    static let table = "continuity.restores"

    /// Records `manifest` as what the target now holds. Stream progress rows go in the same
    /// transaction: they described rows the restore replaced, and a stream resuming from one
    /// would skip the gap between it and the snapshot.
    public static func record(_ manifest: Manifest, store: String, toolVersion: String, on target: Connection) async throws {
        try await target.execute("""
            BEGIN;
            CREATE SCHEMA IF NOT EXISTS continuity;
            CREATE TABLE IF NOT EXISTS \(table) (
                snapshot_id text NOT NULL, stack text NOT NULL, store text NOT NULL, snapshot_lsn pg_lsn NOT NULL,
                source_system_identifier text NOT NULL, restored_at timestamptz NOT NULL DEFAULT now(), tool_version text NOT NULL);
            ALTER TABLE \(table) ADD COLUMN IF NOT EXISTS snapshot_slot text, ADD COLUMN IF NOT EXISTS snapshot_publication text;
            """)
        try await target.execute("""
            INSERT INTO \(table) (snapshot_id, stack, store, snapshot_lsn, snapshot_slot, snapshot_publication, source_system_identifier, tool_version)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, [manifest.id.rawValue, manifest.stack, store, manifest.lsn.description, manifest.slot?.name, manifest.slot?.publication,
                  manifest.source.systemIdentifier, toolVersion])
        if try await target.query("SELECT to_regclass('continuity.stream_progress') IS NOT NULL").scalar(Bool.self) {
            try await target.execute("DELETE FROM continuity.stream_progress")
        }
        try await target.execute("COMMIT")
    }

    /// The newest restore into this database, or nil when it was never restored by continuity.
    /// Rows written before the slot was recorded (no such columns) read with `slot` nil.
    public static func latest(on connection: Connection) async throws -> RestoreRecord? {
        guard try await connection.query("SELECT to_regclass($1) IS NOT NULL", [table]).scalar(Bool.self) else { return nil }
        guard let row = try await connection.query("""
            SELECT snapshot_id, stack, snapshot_lsn, source_system_identifier,
                   to_jsonb(r) ->> 'snapshot_slot' AS slot, to_jsonb(r) ->> 'snapshot_publication' AS publication
            FROM \(table) r ORDER BY restored_at DESC LIMIT 1
            """).rows.first else { return nil }
        return RestoreRecord(snapshotID: try row.decode("snapshot_id"), stack: try row.decode("stack"), lsn: try row.decode("snapshot_lsn"),
                             slot: row["slot"].flatMap { name in row["publication"].map { Manifest.KeptSlot(name: name, publication: $0) } },
                             sourceSystemIdentifier: try row.decode("source_system_identifier"))
    }
}
