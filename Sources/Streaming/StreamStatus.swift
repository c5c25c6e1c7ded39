import Applier
import OperatorErrors
import PostgresClient
import PostgresTypes

/// `continuity stream status`: where a slot's stream stands, from both nodes.
public struct StreamStatus: Codable, Sendable {
    public let slot: String
    /// The pid of the walsender serving a running stream, nil when none is running.
    public let streamingPid: String?
    /// pg_replication_slots.wal_status: reserved, extended, unreserved, or lost (invalidated).
    public let walStatus: String
    /// The active's current WAL position.
    public let activeLSN: String
    /// How far the passive is known to be current: committed there, or confirmed idle.
    public let confirmedLSN: String
    /// The end of the last source transaction the passive committed (nil: never streamed).
    public let appliedLSN: String?
    public let lagBytes: Int64
    /// PostgreSQL's replay lag for a running stream (0 once it has caught up); when none runs
    /// and WAL is waiting, the time since the last applied source commit, an upper bound.
    public let lagSeconds: Double?
    /// Row changes per second over the stream's last seconds; 0 when no stream runs.
    public let changesPerSecond: Double
    /// WAL the active keeps for this slot.
    public let walHeldBytes: Int64
    public let transactionsApplied: Int64
    public let changesApplied: Int64
    public let lastAppliedAt: String?

    public static func read(source: ConnectionString, target: ConnectionString, slot: String) async throws -> StreamStatus {
        let row = try await Connection.with(source) { active in
            try await active.query("""
                SELECT s.active_pid::text AS pid, coalesce(s.wal_status, 'unknown') AS wal_status,
                       pg_current_wal_lsn() AS current, s.confirmed_flush_lsn AS confirmed,
                       pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint AS held,
                       (SELECT extract(epoch FROM r.replay_lag)::float8 FROM pg_stat_replication r WHERE r.pid = s.active_pid) AS replay_lag
                FROM pg_replication_slots s WHERE s.slot_name = $1
                """, [slot]).rows.first
        }
        guard let row else {
            throw UsageError("there is no slot \(slot) on \(source.shortDescription)",
                             fix: "start the stream with `continuity stream --slot \(slot) …`, or name the slot it uses")
        }
        let progress = try await Connection.with(target) { try await StreamProgress.read(slot: slot, on: $0) }
        let current: LSN = try row.decode("current")
        let confirmed = max(try row.decode("confirmed", as: LSN.self), progress?.lsn ?? .zero)
        let lagBytes = current > confirmed ? Int64(clamping: current.rawValue - confirmed.rawValue) : 0
        let pid = row["pid"]
        // A running stream with no replay lag sample has caught up (PostgreSQL clears it then).
        let lagSeconds: Double? = if let replay = row["replay_lag"].flatMap(Double.init) {
            replay
        } else if lagBytes == 0 || pid != nil {
            0
        } else {
            progress?.secondsSinceSourceCommit
        }
        return StreamStatus(
            slot: slot, streamingPid: pid, walStatus: try row.decode("wal_status"), activeLSN: current.description,
            confirmedLSN: confirmed.description, appliedLSN: progress?.lsn.description, lagBytes: lagBytes,
            lagSeconds: lagSeconds, changesPerSecond: pid == nil ? 0 : progress?.changesPerSecond ?? 0,
            walHeldBytes: row["held"].flatMap(Int64.init) ?? 0, transactionsApplied: progress?.transactions ?? 0,
            changesApplied: progress?.changes ?? 0, lastAppliedAt: progress?.appliedAt)
    }
}
