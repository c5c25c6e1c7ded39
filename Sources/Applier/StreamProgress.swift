import PostgresClient
import PostgresTypes

/// The passive's record of how far each slot is applied: one row per slot in
/// `continuity.stream_progress`, written in the same transaction as the changes it covers.
public struct StreamProgress: Sendable, Equatable {
    public let slot: String
    /// End LSN of the last source transaction committed on the passive.
    public let lsn: LSN
    /// Source commit time of that transaction and when the passive committed it (ISO 8601).
    public let sourceCommittedAt: String?
    public let appliedAt: String
    /// Seconds between now and `sourceCommittedAt`, read on the passive.
    public let secondsSinceSourceCommit: Double?
    public let transactions: Int64
    public let changes: Int64
    /// Row changes per second over the stream's last few seconds when it last committed.
    public let changesPerSecond: Double
    /// When a cutover promoted this passive for the slot (ISO 8601); nil while it is a passive.
    public let promotedAt: String?

    static let table = "continuity.stream_progress"

    /// SQLSTATE of the error a stream meets when it writes into a passive a cutover promoted.
    public static let promotedState = "CN002"

    /// The table, and the guard every UPDATE and DELETE of the stream reports to (`RowCountGuard`).
    static func createTable(on connection: Connection) async throws {
        try await connection.execute("""
            CREATE SCHEMA IF NOT EXISTS continuity;
            CREATE TABLE IF NOT EXISTS \(table) (
                slot text PRIMARY KEY, lsn pg_lsn NOT NULL, applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                source_committed_at timestamptz, transactions bigint NOT NULL DEFAULT 0,
                changes bigint NOT NULL DEFAULT 0, changes_per_second double precision NOT NULL DEFAULT 0,
                promoted_at timestamptz)
            """)
        // A table made by an earlier version; checked first, as ALTER TABLE would lock it every time.
        if try await connection.query("SELECT NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'promoted_at')",
                                      [table]).scalar(Bool.self) {
            try await connection.execute("ALTER TABLE \(table) ADD COLUMN IF NOT EXISTS promoted_at timestamptz")
        }
        try await createFunction("continuity.expect_rows(bigint, bigint, text)", RowCountGuard.function, on: connection)
        try await createFunction("continuity.require_unpromoted(bigint, text)", unpromotedFunction, on: connection)
    }

    private static func createFunction(_ signature: String, _ sql: String, on connection: Connection) async throws {
        guard try await connection.query("SELECT to_regprocedure($1) IS NULL", [signature]).scalar(Bool.self) else { return }
        do {
            try await connection.execute(sql)
        } catch let error as ServerError where ["42723", "23505"].contains(error.sqlState) {
            // Created by a stream starting at the same moment: the same function.
        }
    }

    /// Raised by a group's progress update that found the slot's row promoted: the group's
    /// COMMIT, pipelined behind it, then rolls everything back. No change reaches a passive
    /// after a cutover promoted it, whatever a stream still running does.
    private static let unpromotedFunction = """
        CREATE FUNCTION continuity.require_unpromoted(changed bigint, slot text) RETURNS bigint
        LANGUAGE plpgsql AS $$
        BEGIN
            IF changed = 0 THEN
                RAISE EXCEPTION 'a cutover promoted this passive for slot %', slot USING ERRCODE = '\(promotedState)';
            END IF;
            RETURN changed;
        END $$
        """

    /// The slot's row, or nil when this passive has none (or no progress table at all).
    public static func read(slot: String, on connection: Connection) async throws -> StreamProgress? {
        guard try await connection.query("SELECT to_regclass($1) IS NOT NULL", [table]).scalar(Bool.self) else { return nil }
        guard let row = try await connection.query("""
            SELECT lsn, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS applied_at,
                   to_char(source_committed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS source_committed_at,
                   extract(epoch FROM clock_timestamp() - source_committed_at)::float8 AS since_commit,
                   transactions, changes, changes_per_second,
                   to_char(promoted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS promoted_at
            FROM \(table) WHERE slot = $1
            """, [slot]).rows.first else { return nil }
        return StreamProgress(slot: slot, lsn: try row.decode("lsn"), sourceCommittedAt: row["source_committed_at"],
                              appliedAt: try row.decode("applied_at"),
                              secondsSinceSourceCommit: row["since_commit"].flatMap(Double.init),
                              transactions: try row.decode("transactions"), changes: try row.decode("changes"),
                              changesPerSecond: try row.decode("changes_per_second"), promotedAt: row["promoted_at"])
    }

    /// Records that a group ending at `lsn` is in; counts add up across groups.
    /// `sourceCommitTime` is pgoutput's: microseconds since 2000-01-01 UTC.
    static func upsert(slot: String, lsn: LSN, sourceCommitTime: Int64, transactions: Int, changes: Int64,
                       perSecond: Double) -> PipelinedStatement {
        PipelinedStatement("""
            WITH changed AS (
                INSERT INTO \(table) AS p (slot, lsn, source_committed_at, transactions, changes, changes_per_second)
                VALUES ($1, $2, timestamptz '2000-01-01 00:00:00+00' + $3::bigint * interval '1 microsecond', $4, $5, $6)
                ON CONFLICT (slot) DO UPDATE SET lsn = excluded.lsn, applied_at = clock_timestamp(),
                    source_committed_at = excluded.source_committed_at, transactions = p.transactions + excluded.transactions,
                    changes = p.changes + excluded.changes, changes_per_second = excluded.changes_per_second
                WHERE p.promoted_at IS NULL
                RETURNING 1)
            SELECT continuity.require_unpromoted(count(*), $1) FROM changed
            """, [slot, lsn.description, String(sourceCommitTime), String(transactions), String(changes), String(perSecond)],
            prepared: true)
    }

    /// Moves a slot's row to an idle position (nothing to apply before it); never backwards,
    /// never once promoted.
    static let advanceSQL = """
        INSERT INTO \(table) (slot, lsn) VALUES ($1, $2)
        ON CONFLICT (slot) DO UPDATE SET lsn = excluded.lsn, applied_at = clock_timestamp()
        WHERE \(table).lsn < excluded.lsn AND \(table).promoted_at IS NULL
        """

    /// Marks the passive promoted for the slot (cutover). It waits for a stream's sequence
    /// sync under way (`lockForSequenceSync`), so none that started before can set a sequence
    /// after, and every later one sees the mark and stops.
    /// A sync that holds the lock longer than half a second is stuck (a stopped stream process):
    /// its session is ended, which ends its transaction, and the lock is taken then.
    public static func markPromoted(slot: String, on connection: Connection) async throws {
        try await connection.execute("BEGIN; SET LOCAL lock_timeout = '500ms'")
        do {
            do {
                try await connection.execute("SAVEPOINT lock")
                try await connection.execute("SELECT pg_advisory_xact_lock(\(promotionLockKey), hashtext($1))", [slot])
            } catch let error as ServerError where error.sqlState == "55P03" {
                try await connection.execute("ROLLBACK TO SAVEPOINT lock")
                try await connection.execute("""
                    SELECT pg_terminate_backend(pid, 1000) FROM pg_locks
                    WHERE locktype = 'advisory' AND granted AND classid = \(promotionLockKey)::oid AND objid = hashtext($1)::oid AND pid <> pg_backend_pid()
                    """, [slot])
                try await connection.execute("SELECT pg_advisory_xact_lock(\(promotionLockKey), hashtext($1))", [slot])
            }
            try await connection.execute("UPDATE \(table) SET promoted_at = clock_timestamp() WHERE slot = $1 AND promoted_at IS NULL", [slot])
            try await connection.execute("COMMIT")
        } catch {
            _ = try? await connection.execute("ROLLBACK")
            throw error
        }
    }

    /// For a stream's sequence sync, in its own transaction on the passive: waits while a
    /// cutover marks the passive promoted, then says whether it did. Sequences set inside the
    /// transaction afterwards cannot land after the mark.
    public static func lockForSequenceSync(slot: String, on connection: Connection) async throws -> Bool {
        try await connection.execute("SELECT pg_advisory_xact_lock_shared(\(promotionLockKey), hashtext($1))", [slot])
        return try await read(slot: slot, on: connection)?.promotedAt != nil
    }

    /// The advisory lock class of a slot's promotion ('cpro').
    private static let promotionLockKey = 0x6370_726F

    /// Records the starting point of a stream whose passive was just copied at `lsn`.
    public static func start(slot: String, at lsn: LSN, on connection: Connection) async throws {
        try await createTable(on: connection)
        try await connection.execute("""
            INSERT INTO \(table) (slot, lsn) VALUES ($1, $2)
            ON CONFLICT (slot) DO UPDATE SET lsn = excluded.lsn, applied_at = clock_timestamp()
            """, [slot, lsn.description])
    }
}

/// Changes per second over the last ten seconds or so, from cumulative counts.
struct RateWindow {
    private var samples: [(at: ContinuousClock.Instant, total: Int64)] = []

    mutating func record(changes total: Int64, at now: ContinuousClock.Instant) -> Double {
        samples.append((now, total))
        samples.removeAll { now - $0.at > .seconds(10) }
        guard let first = samples.first, now > first.at else { return 0 }
        return Double(total - first.total) / ((now - first.at) / .seconds(1))
    }
}
