import OperatorErrors
import PostgresClient
import PostgresTypes

/// How writes to a source are stopped before a snapshot taken ahead of a destroy, so nothing
/// written after the snapshot is lost. A fence is left in place: the stack is going away.
public enum Fence: Sendable, Equatable {
    case none
    /// `default_transaction_read_only` on the database, and every other client session ended.
    case readonly
    /// PgBouncer `PAUSE` of the database: waits for transactions in flight, then holds clients.
    case pgbouncer(admin: ConnectionString)

    public init(parsing text: String, pgbouncerAdmin: ConnectionString?) throws(UsageError) {
        switch text {
        case "none": self = .none
        case "readonly": self = .readonly
        case "pgbouncer":
            guard let pgbouncerAdmin else {
                throw UsageError("--fence pgbouncer needs PgBouncer's admin console",
                                 fix: "give --pgbouncer-admin 'host=… port=6432 dbname=pgbouncer user=…'")
            }
            self = .pgbouncer(admin: pgbouncerAdmin)
        default:
            throw UsageError("unknown fence '\(text)'", fix: "use readonly, pgbouncer or none")
        }
    }

    public var name: String {
        switch self {
        case .none: "none"
        case .readonly: "readonly"
        case .pgbouncer: "pgbouncer"
        }
    }

    /// Puts the fence up for the source's database; returns how to take it down again.
    public func apply(to source: ConnectionString) async throws -> String? {
        switch self {
        case .none:
            return nil
        case .readonly:
            return try await Connection.with(source) { connection in
                // Sessions opened before the fence could still write: ended and waited for.
                // Their clients reconnect into a read-only database.
                try await ReadOnlyFence.put(on: connection)
                return "ALTER DATABASE \(try await ReadOnlyFence.databaseName(connection)) RESET default_transaction_read_only"
            }
        case .pgbouncer(let admin):
            let database = source["dbname"] ?? source["user"] ?? "postgres"
            // The admin console runs no SQL and accepts no startup parameters but its own.
            try await Connection.with(admin, options: .init(fixesSettings: false)) { console in
                do {
                    try await console.execute("PAUSE \(quoteIdentifier(database))")
                } catch let error as ServerError where error.message.contains("already") {
                    // Already paused (a re-run after a crash): the fence is up, which is what we want.
                }
            }
            return "RESUME \(quoteIdentifier(database)) on the PgBouncer admin console"
        }
    }
}
