import Logging
import PostgresClient

/// Where a snapshot stands in the WAL, exactly.
///
/// `pg_export_snapshot()` gives a consistent snapshot but no LSN that matches it: a
/// transaction committing between the snapshot and a `pg_current_wal_lsn()` read afterwards
/// is in neither the data nor the stream that starts from that LSN. A temporary logical slot
/// created with `(SNAPSHOT 'export')` gives both at once: its consistent point is the LSN
/// from which a stream repeats nothing and misses nothing. It needs wal_level=logical, the
/// replication privilege, a free slot, and no transaction running for long (a slot waits for
/// those to end); without them the snapshot falls back to `pg_export_snapshot()` and its LSN
/// is the one read just after (README, Snapshot and restore).
struct SnapshotPoint {
    let snapshot: String
    let lsn: LSN
    /// The walsender session that keeps the snapshot (and the temporary slot) alive.
    private let holder: Connection

    /// nil when a slot cannot be made here, or not within `waitLimit`; the reason is logged.
    static func viaTemporarySlot(_ source: ConnectionString, waitLimit: Duration = .seconds(10),
                                 logger: Logger) async -> SnapshotPoint? {
        let name = "continuity_snapshot_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        do {
            let holder = try await Connection.connect(source, options: .init(replication: true))
            do {
                // A slot waits for every transaction already running to end: do not let one left
                // open for long hold up a snapshot before a stack goes away.
                let timer = Task {
                    try await Task.sleep(for: waitLimit)
                    holder.cancel()
                }
                defer { timer.cancel() }
                let slot = try await holder.createLogicalSlot(name, snapshot: .export, temporary: true)
                guard let snapshot = slot.snapshotName else { throw ConnectionLost(target: source.shortDescription, reason: "no snapshot exported") }
                return SnapshotPoint(snapshot: snapshot, lsn: slot.consistentPoint, holder: holder)
            } catch {
                await holder.close()
                throw error
            }
        } catch {
            let reason = (error as? ServerError).map { $0.isQueryCanceled ? "a transaction open on the source kept it waiting over \(waitLimit)" : $0.message }
            logger.notice("no temporary logical slot on \(source.shortDescription) (\(reason ?? "\(error)")); the snapshot's LSN is read just after it, not exactly at it")
            return nil
        }
    }

    /// Ends the session: the temporary slot goes with it.
    func release() async {
        await holder.close()
    }
}

extension Connection {
    /// Starts the read-only, repeatable-read transaction every reader of a snapshot runs in,
    /// importing `snapshot` when given (else the transaction's own snapshot is the one to export),
    /// then runs `statements` in it, all in one round trip.
    public func beginSnapshotTransaction(importing snapshot: String?, then statements: [String] = []) throws {
        let steps = ["BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                     snapshot.map { "SET TRANSACTION SNAPSHOT '\($0.replacingOccurrences(of: "'", with: "''"))'" }] + statements
        try execute(steps.compactMap { $0 }.joined(separator: "; "))
    }
}
