import OperatorErrors
import PostgresClient
import PostgresTypes

/// The read-only fence on a database, put up and lifted from a session of the caller's, which
/// it spares: used by `--fence readonly` before a snapshot, by cutover on the old active, and
/// by the `none` router.
public enum ReadOnlyFence {
    /// The database read-only for new sessions, and every other client session on it ended,
    /// waiting until each has exited, so no commit of one is still on its way. A session that
    /// cannot be ended (a superuser's, for a caller that is not one) is named in the error: it
    /// could still write. Also works on a database fenced already (a re-run).
    public static func put(on session: Connection) async throws {
        // A database fenced already makes this session read-only too, which refuses ALTER DATABASE.
        try await session.execute("SET default_transaction_read_only = off")
        try await session.execute("ALTER DATABASE \(try await databaseName(session)) SET default_transaction_read_only = on")
        let fencedAt = try await session.query("SELECT clock_timestamp()::text").scalar(String.self)
        // Ended all at once, then waited for: each backend exits within milliseconds.
        let others = try await session.query("""
            SELECT pid::text FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
            """).rows.compactMap { $0["pid"] }
        for pid in others { _ = try? await session.execute("SELECT pg_terminate_backend($1::int)", [pid]) }
        let deadline = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < deadline, try await session.query("""
            SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                           AND backend_type = 'client backend' AND backend_start < $1::timestamptz)
            """, [fencedAt]).scalar(Bool.self) {
            try await Task.sleep(for: .milliseconds(1))
        }
        // Sessions that began before the fence and are still there could still write.
        let left = try await session.query("""
            SELECT string_agg(pid::text || ' (' || coalesce(nullif(application_name, ''), usename::text) || ')', ', ')
            FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
              AND backend_start < $1::timestamptz
            """, [fencedAt]).rows.first?["string_agg"] ?? nil
        if let left {
            throw Failure("sessions on \(session.dsn.shortDescription) could not be ended, so they could still write: \(left)",
                          fix: "run continuity as a role that may end them (a superuser), or close them first")
        }
    }

    /// Whether the session's database is fenced (its own `default_transaction_read_only`).
    public static func isUp(on session: Connection) async throws -> Bool {
        try await session.query("""
            SELECT EXISTS (SELECT FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
                           WHERE d.datname = current_database() AND s.setrole = 0
                           AND 'default_transaction_read_only=on' = ANY (s.setconfig))
            """).scalar(Bool.self)
    }

    /// Lifts the fence, if the database has one. A session of a read-only database must turn
    /// that off for itself before PostgreSQL takes `ALTER DATABASE`.
    public static func lift(on session: Connection) async throws {
        guard try await isUp(on: session) else { return }
        try await session.execute("SET default_transaction_read_only = off")
        try await session.execute("ALTER DATABASE \(try await databaseName(session)) RESET default_transaction_read_only")
    }

    static func databaseName(_ session: Connection) async throws -> String {
        quoteIdentifier(try await session.query("SELECT current_database()").scalar(String.self))
    }
}
