import Logging
import OperatorErrors
import PostgresClient
import PostgresTypes
import SnapshotFormat

/// Where a snapshot stands in the WAL, exactly.
///
/// `pg_export_snapshot()` gives a consistent snapshot but no LSN that matches it: a
/// transaction committing between the snapshot and a `pg_current_wal_lsn()` read afterwards
/// is in neither the data nor the stream that starts from that LSN. A temporary logical slot
/// created with `(SNAPSHOT 'export')` gives both at once: its consistent point is the LSN
/// from which a stream repeats nothing and misses nothing. It needs wal_level=logical, the
/// replication privilege, a free slot, and no transaction running for long (a slot waits for
/// those to end); without them the snapshot falls back to `pg_export_snapshot()` and its LSN
/// is the one read just after (README, Snapshot and restore). `snapshot --slot` makes the slot
/// persistent instead, and never falls back.
public struct SnapshotPoint: Sendable {
    public let snapshot: String
    public let lsn: LSN
    /// The persistent slot made for `snapshot --slot`, which outlives this run; nil for the
    /// temporary one, which goes with `holder`.
    public let keptSlot: Manifest.KeptSlot?
    /// The walsender session that keeps the snapshot (and the temporary slot) alive.
    private let holder: Connection

    /// nil when a slot cannot be made here, or not within `waitLimit`; the reason is logged.
    public static func viaTemporarySlot(_ source: ConnectionString, waitLimit: Duration = .seconds(10),
                                 logger: Logger) async -> SnapshotPoint? {
        let name = "continuity_snapshot_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        do {
            return try await make(name, kept: nil, on: source, waitLimit: waitLimit)
        } catch {
            logger.notice("no temporary logical slot on \(source.shortDescription) (\(reason(error, waitLimit))); the snapshot's LSN is read just after it, not exactly at it")
            return nil
        }
    }

    /// `snapshot --slot NAME`: the slot stays after the run, at the snapshot's exact LSN, so a
    /// stream into a database restored from the snapshot misses nothing; the stream's
    /// publication is made first (`StreamPublication`). No fallback: without the slot the
    /// snapshot would not be what was asked for.
    public static func viaKeptSlot(_ slot: Manifest.KeptSlot, on source: ConnectionString, waitLimit: Duration) async throws -> SnapshotPoint {
        let name = slot.name
        do {
            try await Connection.with(source) { try await StreamPublication.ensure(slot.publication, on: $0) }
        } catch {
            throw Failure("--slot \(name): publication \(slot.publication) could not be made on \(source.shortDescription) (\(reason(error, waitLimit)))",
                          fix: "create it as a superuser (CREATE PUBLICATION … FOR ALL TABLES), then run again")
        }
        do {
            return try await make(name, kept: slot, on: source, waitLimit: waitLimit)
        } catch let error as ServerError where error.sqlState == "42710" {
            throw Refusal("slot \(name) already exists on \(source.shortDescription): a slot cannot be moved back to a new snapshot",
                          fix: "choose another --slot, or drop it first if no stream needs it (SELECT pg_drop_replication_slot('\(name)'))")
        } catch let error as ServerError where error.isQueryCanceled {
            throw Failure("--slot \(name): \(reason(error, waitLimit)), so no slot was made",
                          fix: "end the transactions left open on the source (see pg_stat_activity), then run again")
        } catch {
            let precondition = (error as? ServerError)?.sqlState == "55000"  // wal_level below logical
            let problem = "--slot \(name): no logical slot could be made on \(source.shortDescription) (\(reason(error, waitLimit)))"
            let fix = "it needs wal_level=logical, a role with REPLICATION, a free slot (max_replication_slots) and a direct connection, not PgBouncer"
            throw precondition ? Refusal(problem, fix: fix) as any OperatorError : Failure(problem, fix: fix)
        }
    }

    private static func make(_ name: String, kept: Manifest.KeptSlot?, on source: ConnectionString, waitLimit: Duration) async throws -> SnapshotPoint {
        let holder = try await Connection.connect(source, options: .init(replication: true))
        do {
            // A slot waits for every transaction already running to end: do not let one left
            // open for long hold up a snapshot before a stack goes away.
            let timer = Task {
                try await Task.sleep(for: waitLimit)
                holder.cancel()
            }
            defer { timer.cancel() }
            let slot = try await holder.createLogicalSlot(name, snapshot: .export, temporary: kept == nil)
            guard let snapshot = slot.snapshotName else { throw ConnectionLost(target: source.shortDescription, reason: "no snapshot exported") }
            return SnapshotPoint(snapshot: snapshot, lsn: slot.consistentPoint, keptSlot: kept, holder: holder)
        } catch {
            await holder.close()
            throw error
        }
    }

    private static func reason(_ error: any Error, _ waitLimit: Duration) -> String {
        (error as? ServerError).map { $0.isQueryCanceled ? "a transaction open on the source kept it waiting over \(waitLimit)" : $0.message }
            ?? (error as? any OperatorError)?.problem ?? "\(error)"
    }

    /// Ends the session: the temporary slot goes with it, a kept one stays.
    public func release() async {
        await holder.close()
    }

    /// The snapshot failed: ends the session and drops a kept slot too, which would otherwise
    /// hold the source's WAL for good. Runs even when the snapshot was cancelled.
    public func abandon(on source: ConnectionString, logger: Logger) async {
        await holder.close()
        guard let name = keptSlot?.name else { return }
        await Task {
            do {
                try await Connection.with(source, options: .init(replication: true)) { try await $0.dropSlot(name) }
            } catch {
                logger.error("slot \(name) could not be dropped on \(source.shortDescription) (\((error as? any OperatorError)?.problem ?? "\(error)")): it holds WAL until SELECT pg_drop_replication_slot('\(name)') is run there")
            }
        }.value
    }
}
