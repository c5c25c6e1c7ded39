import Logging
import PostgresClient

/// Where a snapshot stands in the WAL, exactly.
///
/// `pg_export_snapshot()` gives a consistent snapshot but no LSN that matches it: a
/// transaction committing between the snapshot and a `pg_current_wal_lsn()` read afterwards
/// is in neither the data nor the stream that starts from that LSN. A temporary logical slot
/// created with `(SNAPSHOT 'export')` gives both at once: its consistent point is the LSN
/// from which a stream repeats nothing and misses nothing. It needs wal_level=logical, the
/// replication privilege and a free slot; without them the snapshot falls back to
/// `pg_export_snapshot()` and its LSN is the one read just after (README, Choices).
struct SnapshotPoint {
    let snapshot: String
    let lsn: LSN
    /// The walsender session that keeps the snapshot (and the temporary slot) alive.
    private let holder: Connection

    /// nil when a slot cannot be made here; the reason is logged.
    static func viaTemporarySlot(_ source: ConnectionString, logger: Logger) async -> SnapshotPoint? {
        let name = "continuity_snapshot_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        do {
            let holder = try await Connection.connect(source, options: .init(replication: true))
            do {
                let slot = try await holder.createLogicalSlot(name, snapshot: .export, temporary: true)
                guard let snapshot = slot.snapshotName else { throw ConnectionLost(target: source.shortDescription, reason: "no snapshot exported") }
                return SnapshotPoint(snapshot: snapshot, lsn: slot.consistentPoint, holder: holder)
            } catch {
                await holder.close()
                throw error
            }
        } catch {
            logger.info("no temporary logical slot on \(source.shortDescription) (\((error as? ServerError)?.message ?? "\(error)")); the snapshot's LSN is read just after it instead")
            return nil
        }
    }

    /// Ends the session: the temporary slot goes with it.
    func release() async {
        await holder.close()
    }
}
