import OperatorErrors
import PostgresClient
import PostgresTypes

/// PgBouncer's admin console: a session that runs no SQL, only its own commands, and accepts
/// no startup parameters but its own (hence `fixesSettings: false`).
struct PgBouncerConsole {
    let admin: ConnectionString

    init(admin text: String) throws {
        do { admin = try ConnectionString(text) } catch {
            throw UsageError("PgBouncer's admin DSN: \(error.problem)", fix: error.fix)
        }
    }

    var address: String {
        "\(admin["host"] ?? admin["hostaddr"] ?? "local socket"):\(admin["port"] ?? "6432")"
    }

    static let options = Connection.Options(connectTimeout: 5, fixesSettings: false)

    func connect() async throws -> Connection {
        try await Connection.connect(admin, options: Self.options)
    }

    /// Runs one command on a session of its own.
    @discardableResult
    func run(_ command: String) async throws -> QueryResult {
        try await Connection.with(admin, options: Self.options) { try await $0.query(command) }
    }


    /// Who keeps `database` from pausing: its server connections still linked to a client,
    /// with that client's address and application_name (from SHOW SERVERS / SHOW CLIENTS), and
    /// the backend's pid, read on the console `session` (a second one, not the one waiting
    /// in PAUSE).
    func linkedServers(of database: String, on session: Connection) async throws -> [LinkedServer] {
        let servers = try await session.query("SHOW SERVERS").rows
        let clients = try await session.query("SHOW CLIENTS").rows
        return servers.compactMap { server in
            guard server["database"] == database, server["state"] == "active" else { return nil }
            let client = clients.first { $0["ptr"] != nil && $0["ptr"] == server["link"] }
            return LinkedServer(pid: server["remote_pid"].flatMap { Int($0) },
                                clientAddress: client.map { "\($0["addr"] ?? "?"):\($0["port"] ?? "?")" },
                                applicationName: client?["application_name"] ?? server["application_name"])
        }
    }
}

/// One console session kept across a cutover's steps: the session whose PAUSE completed goes on
/// to RELOAD and RESUME, so clients do not wait for two more logins (each a SCRAM exchange).
/// A session found broken is replaced once by a new one.
actor ConsoleSession {
    private let console: PgBouncerConsole
    private var connection: Connection?

    init(_ console: PgBouncerConsole) { self.console = console }

    func adopt(_ session: Connection) async {
        await connection?.close()
        connection = session
    }

    @discardableResult
    func run(_ command: String) async throws -> QueryResult {
        try await session { try await $0.query(command) }
    }

    /// `RESUME db`; a database that is not paused is what we want, so that is success too.
    func resume(_ database: String) async throws {
        do {
            try await run("RESUME \(quoteIdentifier(database))")
        } catch let error as ServerError where error.message.contains("not paused") {
        }
    }

    /// `RELOAD` and `RESUME db` in one write (`Connection.runInOneWrite`): PgBouncer handles
    /// them back to back. A database that is not paused is success, as for `resume`.
    func reloadAndResume(_ database: String) async throws {
        let commands = ["RELOAD", "RESUME \(quoteIdentifier(database))"]
        do {
            try await session { session in
                try await session.perform { try $0.runInOneWrite(commands, answeringBy: .now + .seconds(10)) }
            }
        } catch let error as ServerError where error.message.contains("not paused") {
        }
    }

    /// Runs `body` on the kept session, replaced once by a new one if it is found broken.
    private func session<T: Sendable>(_ body: @Sendable (Connection) async throws -> T) async throws -> T {
        if let connection {
            do {
                return try await body(connection)
            } catch let error as ServerError {
                throw error  // the console's answer: the session is fine
            } catch {
                await connection.close()
                self.connection = nil
            }
        }
        let fresh = try await console.connect()
        connection = fresh
        return try await body(fresh)
    }
}

/// A server connection PgBouncer could not release: the session holding a pause.
struct LinkedServer: Sendable, Equatable {
    let pid: Int?
    let clientAddress: String?
    let applicationName: String?
    /// From pg_stat_activity on the node, when it could be read: "idle in transaction for 3.2 s".
    var state: String?

    /// `pid 4711 idle in transaction for 3.2 s, application_name 'billing', client 10.0.0.7:50122`.
    var description: String {
        var parts = [pid.map { "pid \($0)" } ?? "a server connection"]
        if let state { parts[0] += " \(state)" }
        if let applicationName, !applicationName.isEmpty { parts.append("application_name '\(applicationName)'") }
        if let clientAddress { parts.append("client \(clientAddress)") }
        return parts.joined(separator: ", ")
    }
}
