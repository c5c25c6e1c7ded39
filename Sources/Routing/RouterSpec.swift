import Foundation
import OperatorErrors
import PostgresClient

/// Which router a cutover drives, as the command line gave it: serialisable, because the
/// watchdog (a separate process) rebuilds the router from it. Never holds a password.
public enum RouterSpec: Codable, Sendable, Equatable {
    /// PgBouncer: its admin console's DSN (no password), the ini file holding the database's
    /// line (the main file or one it includes; an absolute path), and the database's name there.
    case pgbouncer(admin: String, config: String, database: String)
    /// No pooler: the old active is fenced read-only; clients must connect to the new one.
    case none
    /// An executable (absolute path) called once per phase.
    case command(path: String)

    /// `--router pgbouncer|none|command:PATH` and its companions. Relative paths are made
    /// absolute here, against this process's working directory, so the watchdog finds the same
    /// files whatever its own.
    public init(parsing text: String, pgbouncerAdmin: String?, pgbouncerConfig: String?,
                pgbouncerDatabase: String?, sourceDatabase: String) throws(UsageError) {
        switch text {
        case "pgbouncer":
            guard let admin = pgbouncerAdmin, !admin.isEmpty else {
                throw UsageError("--router pgbouncer needs PgBouncer's admin console",
                                 fix: "give --pgbouncer-admin 'host=… port=6432 dbname=pgbouncer user=…'")
            }
            let dsn: ConnectionString
            do { dsn = try ConnectionString(admin) } catch {
                throw UsageError("--pgbouncer-admin: \(error.problem)", fix: error.fix)
            }
            guard !dsn.hasPassword else {
                // The spec is written where the watchdog can read it: a password must not be in it.
                throw UsageError("--pgbouncer-admin holds a password",
                                 fix: "remove password= from the DSN and put it in a .pgpass file (PGPASSFILE)")
            }
            guard let config = pgbouncerConfig, !config.isEmpty else {
                throw UsageError("--router pgbouncer needs PgBouncer's config file",
                                 fix: "give --pgbouncer-config /etc/pgbouncer/pgbouncer.ini (or the file it %includes holding the database's line)")
            }
            let database = pgbouncerDatabase ?? sourceDatabase
            guard !database.isEmpty else {
                throw UsageError("--pgbouncer-database is empty", fix: "give the database's name as PgBouncer's [databases] section has it")
            }
            self = .pgbouncer(admin: admin, config: Self.absolute(config), database: database)
        case "none":
            self = .none
        default:
            guard text.hasPrefix("command:") else {
                throw UsageError("unknown router '\(text)'", fix: "use pgbouncer, none or command:PATH")
            }
            let path = String(text.dropFirst("command:".count))
            guard !path.isEmpty else {
                throw UsageError("--router command: names no program", fix: "give command:/path/to/executable")
            }
            self = .command(path: Self.absolute(path))
        }
    }

    /// The router for a cutover from `from` (the active now) to `to`.
    public func makeRouter(from: RouterNode, to: RouterNode) -> any Router {
        switch self {
        case .pgbouncer(let admin, let config, let database):
            PgBouncerRouter(admin: admin, config: config, database: database, from: from, to: to)
        case .none:
            ReadOnlyRouter(from: from, to: to)
        case .command(let path):
            CommandRouter(path: path, from: from, to: to)
        }
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
            .standardizedFileURL.path
    }
}
