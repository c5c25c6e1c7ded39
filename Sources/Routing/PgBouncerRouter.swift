import OperatorErrors
import PostgresClient
import PostgresTypes

/// PgBouncer in front of the nodes: `PAUSE`/`RESUME` of one database on the admin console, and
/// its `[databases]` line rewritten, then `RELOAD` sent with the `RESUME`.
///
/// PAUSE has no timeout of its own and, in transaction pooling, returns only once every server
/// connection of the database is released: one client idle in a transaction holds it for ever,
/// and a RESUME sent meanwhile can leave it hanging for good (pgbouncer#715). So PAUSE is sent
/// on a console session of its own and awaited with a deadline (a poll() on that session's
/// thread); at the deadline the holders are read and RESUME is sent on a second session, and
/// the first is closed without ever waiting for its answer again.
struct PgBouncerRouter: Router {
    let admin: String
    let config: String
    let database: String
    let from: RouterNode
    let to: RouterNode
    /// nil when the admin DSN cannot be parsed (a spec decoded from a damaged file): each step
    /// then throws that error.
    private let session: ConsoleSession?

    init(admin: String, config: String, database: String, from: RouterNode, to: RouterNode) {
        self.admin = admin
        self.config = config
        self.database = database
        self.from = from
        self.to = to
        self.session = (try? PgBouncerConsole(admin: admin)).map(ConsoleSession.init)
    }

    private func console() throws -> ConsoleSession {
        if let session { return session }
        _ = try PgBouncerConsole(admin: admin)
        throw UsageError("PgBouncer's admin DSN cannot be parsed")
    }

    var description: String {
        "pgbouncer database \(database) via \((try? PgBouncerConsole(admin: admin))?.address ?? "its admin console")"
    }

    private var paused: String { "pgbouncer database \(database)" }
    private func command(_ verb: String) -> String { "\(verb) \(quoteIdentifier(database))" }

    func preflight() async -> [String] {
        var findings: [String] = []
        let line: PgBouncerConfigFile.DatabaseLine?
        do {
            let found = try PgBouncerConfigFile.locate(database: database, in: config, read: AtomicFile.read)
            line = found
            if !found.points(at: from) && !found.points(at: to) {
                findings.append("\(found.location): database \(database) points at \(Self.describe(found.host, found.port, found.dbname)), "
                                + "which is neither the source \(from) nor the target \(to); fix the line or the DSNs")
            }
        } catch {
            line = nil
            findings.append(Self.problem(error))
        }
        do {
            let console = try PgBouncerConsole(admin: admin)
            let databases = try await console.run("SHOW DATABASES").rows
            // The running configuration must be the file's (the file PgBouncer reads, reloaded).
            if let live = databases.first(where: { $0["name"] == database }) {
                let host = live["host"].flatMap { $0.isEmpty ? nil : $0 }
                let port = live["port"].flatMap { Int($0) }
                let pointsAtANode = [from, to].contains { host == $0.host && port == $0.port && live["database"] == $0.dbname }
                if !pointsAtANode {
                    findings.append("PgBouncer at \(console.address) sends database \(database) to "
                                    + "\(Self.describe(host, port, live["database"] ?? "?")), neither \(from) nor \(to)"
                                    + (line.map { "; is \($0.file) the file it reads, and was it reloaded?" } ?? ""))
                }
            } else if line != nil {
                findings.append("PgBouncer at \(console.address) has no database \(database) although \(config) defines it: "
                                + "is it the file PgBouncer reads, and was it reloaded (RELOAD)?")
            }
        } catch {
            findings.append("PgBouncer's admin console does not answer: \(Self.problem(error))")
        }
        return findings
    }

    func pause(deadline: ContinuousClock.Instant) async throws {
        let console = try PgBouncerConsole(admin: admin)
        let pausing = try await console.connect()
        // A connect that took the whole time must not pause clients after the deadline: the
        // cutover has given up by then, and the dead-man's switch may have come and gone.
        guard ContinuousClock.now < deadline else {
            await pausing.close()
            throw PauseHeld(what: "PgBouncer's console answered only after the deadline", holders: [])
        }
        let answer: QueryResult?
        do {
            answer = try await pausing.query(command("PAUSE"), answeringBy: deadline)
        } catch let error as ServerError where error.message.contains("already") {
            // Older PgBouncers refuse a second PAUSE: paused is what we want.
            await pausing.close()
            return
        } catch {
            await pausing.close()
            throw error
        }
        if answer != nil {
            // Kept for RELOAD and RESUME: no new login while clients wait.
            if let session { await session.adopt(pausing) } else { await pausing.close() }
            return
        }
        // The deadline came first. Name the holders while they still hold it, then let clients go.
        var holders: [LinkedServer] = []
        do {
            holders = try await Connection.with(console.admin, options: PgBouncerConsole.options) { second in
                let linked = (try? await console.linkedServers(of: database, on: second)) ?? []
                do {
                    try await second.query(command("RESUME"))
                } catch let error as ServerError where error.message.contains("not paused") {
                }
                return linked
            }
        } catch {
            await pausing.close()
            throw Failure("the pause of \(paused) did not complete in time, and RESUME failed: \(Self.problem(error))",
                          fix: "clients are held: run RESUME \(quoteIdentifier(database)) on PgBouncer's admin console now")
        }
        await pausing.close()
        throw PauseHeld(what: paused, holders: await describe(holders, user: console.admin["user"]).map(\.description))
    }

    /// Adds each holder's state from the node's pg_stat_activity, when it can be read quickly;
    /// the names from PgBouncer stand on their own otherwise.
    private func describe(_ holders: [LinkedServer], user: String?) async -> [LinkedServer] {
        let pids = holders.compactMap(\.pid)
        guard !pids.isEmpty else { return holders }
        let node = RouterNode(host: from.host, port: from.port, dbname: from.dbname, user: from.user ?? user)
        guard let dsn = try? node.connectionString(),
              let rows = try? await Connection.with(dsn, options: .init(connectTimeout: 2), { session in
                  try await session.query("""
                      SELECT pid, state, round(extract(epoch FROM clock_timestamp() - state_change)::numeric, 1)
                      FROM pg_stat_activity WHERE pid = ANY($1::int[])
                      """, ["{\(pids.map(String.init).joined(separator: ","))}"]).rows
              }) else { return holders }
        return holders.map { holder in
            var described = holder
            if let row = rows.first(where: { $0[0].flatMap { Int($0) } == holder.pid }), let state = row[1] {
                described.state = "\(state) for \(row[2] ?? "?") s"
            }
            return described
        }
    }

    func repoint() async throws {
        let line = try PgBouncerConfigFile.locate(database: database, in: config, read: AtomicFile.read)
        if line.points(at: to) { return }
        guard line.points(at: from) else {
            throw Refusal("\(line.location): database \(database) points at \(Self.describe(line.host, line.port, line.dbname)), "
                          + "neither the source \(from) nor the target \(to), so it was left alone",
                          fix: "correct the line by hand, RELOAD, and settle the cutover with --recover")
        }
        let text = try AtomicFile.read(line.file)
        try AtomicFile.replace(line.file, with: try PgBouncerConfigFile.rewrite(text, lineNumber: line.lineNumber, to: to))
    }

    /// RELOAD and RESUME in one write, then a check that PgBouncer now sends the database to
    /// `to` (RELOAD has read the files when it answers): a rewritten file PgBouncer does not
    /// read must not go unnoticed. Sent apart, a client logging in between them makes PgBouncer
    /// open a server connection to the new address that its pause then closes, and that
    /// counts as a failed login: PgBouncer opens no server connection for `server_login_retry`
    /// (15 s by default) and fails new clients meanwhile (pgbouncer#498; `scripts/bench cutover
    /// --connect-per-transaction` saw 15 s). The check comes after the RESUME, which is why the
    /// preflight insists that the running configuration is the file's.
    func resume() async throws {
        let session = try console()
        try await session.reloadAndResume(database)
        let live = try await session.run("SHOW DATABASES").rows.first { $0["name"] == database }
        let host = live?["host"].flatMap { $0.isEmpty ? nil : $0 }
        guard let live, host == to.host, live["port"].flatMap({ Int($0) }) == to.port, live["database"] == to.dbname else {
            throw Failure("after RELOAD PgBouncer sends database \(database) to "
                          + "\(live.map { Self.describe(host, $0["port"].flatMap { Int($0) }, $0["database"] ?? "?") } ?? "nowhere"), not to \(to)",
                          fix: "clients reach the old active, which is read-only: make \(config) (or the file it includes) the file PgBouncer reads, fix its line, and RELOAD")
        }
    }

    func rollBack() async throws {
        try await console().resume(database)
    }

    private static func describe(_ host: String?, _ port: Int?, _ dbname: String) -> String {
        "\(host ?? "the local socket"):\(port.map(String.init) ?? "?")/\(dbname)"
    }

    private static func problem(_ error: any Error) -> String {
        (error as? any OperatorError)?.problem ?? "\(error)"
    }
}
