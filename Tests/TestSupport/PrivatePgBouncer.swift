import Foundation
import Parallelism
import PostgresClient

/// A PgBouncer of one test's own, modelled on the test bed's: its own directory under /tmp, a
/// free port, the test bed's userlist (so the test bed's pgpass logs in), transaction pooling.
/// Tests that pause, repoint and reload PgBouncer use one of these, never the shared one.
public final class PrivatePgBouncer: Sendable {
    /// The admin console.
    public let admin: ConnectionString
    /// The ini file, holding `[databases]` as given to `start`.
    public let configPath: String
    public let port: Int
    private let directory: String

    private init(directory: String, port: Int, user: String) throws {
        self.directory = directory
        self.port = port
        self.configPath = directory + "/pgbouncer.ini"
        self.admin = try ConnectionString("host=127.0.0.1 port=\(port) user=\(user) dbname=pgbouncer")
    }

    /// A client DSN for one of its databases.
    public func client(_ database: String, applicationName: String = "continuity-test") throws -> ConnectionString {
        try ConnectionString("host=127.0.0.1 port=\(port) user=\(admin["user"] ?? "postgres") dbname=\(database) application_name=\(applicationName)")
    }

    /// Starts one with `databases` (name → the line's connect string, such as
    /// `host=127.0.0.1 port=5432 dbname=app`), runs `body`, and stops and removes it afterwards.
    public static func with<T>(databases: [String: String], _ body: (PrivatePgBouncer) async throws -> T) async throws -> T {
        let bouncer = try await start(databases: databases)
        do {
            let result = try await body(bouncer)
            await bouncer.stop()
            return result
        } catch {
            await bouncer.stop()
            throw error
        }
    }

    public static func start(databases: [String: String]) async throws -> PrivatePgBouncer {
        let testBedDirectory = try TestBed.setting("CONTINUITY_TESTBED_DIR")
        let runUser = try TestBed.setting("CONTINUITY_TESTBED_RUN_USER")
        let user = try TestBed.pgbouncerAdmin["user"] ?? "postgres"
        var template = Array("/tmp/continuity-pgbouncer-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw TestBedMissing(key: "a temporary directory for PgBouncer")
        }
        let directory = String(cString: template)
        let bouncer = try PrivatePgBouncer(directory: directory, port: try freePort(), user: user)
        let lines = databases.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: "\n")
        let ini = """
            ;; A private PgBouncer of one test.
            [databases]
            \(lines)

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = \(bouncer.port)
            unix_socket_dir = \(directory)
            auth_type = scram-sha-256
            auth_file = \(testBedDirectory)/pgbouncer/userlist.txt
            admin_users = \(user)
            pool_mode = transaction
            max_client_conn = 100
            default_pool_size = 5
            ignore_startup_parameters = extra_float_digits,options
            logfile = \(directory)/pgbouncer.log
            pidfile = \(directory)/pgbouncer.pid

            """
        do {
            try ini.write(toFile: bouncer.configPath, atomically: false, encoding: .utf8)
            let asRoot = getuid() == 0
            if asRoot {
                // PgBouncer refuses to run as root: it runs as the test bed's user, which must own its directory.
                try await run("/usr/bin/chown", ["-R", runUser, directory])
                try await run("/usr/sbin/runuser", ["-u", runUser, "--", pgbouncerPath(), "-d", bouncer.configPath])
            } else {
                try await run(pgbouncerPath(), ["-d", bouncer.configPath])
            }
            // Ours, not another test's that got the same free port: its logfile is in our directory.
            try await waitUntil("the private PgBouncer on port \(bouncer.port) to answer") {
                let logfile = try? await Connection.with(bouncer.admin, options: .init(connectTimeout: 2, fixesSettings: false)) {
                    try await $0.query("SHOW CONFIG").rows.first { $0["key"] == "logfile" }?["value"]
                }
                if let logfile, logfile != directory + "/pgbouncer.log" {
                    throw TestBedMissing(key: "a free port for PgBouncer (\(bouncer.port) was taken by another test's)")
                }
                return logfile != nil
            }
            return bouncer
        } catch {
            await bouncer.stop()
            throw error
        }
    }

    /// Stops it (immediate shutdown) and removes its directory. The process is found by its
    /// command line (our config file's path) as well as by its pidfile, and killed if it does
    /// not exit, so no test leaves a PgBouncer behind.
    public func stop() async {
        let pidfile = directory + "/pgbouncer.pid"
        var pids = Set(await offThePool { [configPath] in Self.processes(runningWith: configPath) })
        if let text = try? String(contentsOfFile: pidfile, encoding: .utf8),
           let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 {
            pids.insert(pid)
        }
        for pid in pids { kill(pid, SIGTERM) }
        try? await waitUntil("PgBouncer to exit") { [configPath] in await offThePool { Self.processes(runningWith: configPath) }.isEmpty }
        for pid in await offThePool({ [configPath] in Self.processes(runningWith: configPath) }) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Live processes (not zombies) whose command line holds `argument`, from /proc: it reads
    /// every process's command line, so call it off the cooperative pool.
    private static func processes(runningWith argument: String) -> [pid_t] {
        ProcessTable.pids.filter { pid in
            guard let arguments = ProcessTable.arguments(of: pid) else { return false }
            return arguments.first?.hasSuffix("pgbouncer") == true && arguments.contains(argument)
        }
    }

    private static func pgbouncerPath() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in (path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin"]) {
            let candidate = directory + "/pgbouncer"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestBedMissing(key: "the pgbouncer executable")
    }

    private static func run(_ executable: String, _ arguments: [String]) async throws {
        let run = try await ProgramRun.run(executable, arguments)
        guard run.status == 0 else {
            throw TestBedMissing(key: "\(executable) \(arguments.joined(separator: " ")) (exit \(run.status): \(run.stderr))")
        }
    }
}

/// A port nothing listens on now on 127.0.0.1 (bound to 0, read, closed), for a server or a
/// config file that needs a number.
public func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw TestBedMissing(key: "a socket for a free port") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
        }
    }
    guard bound else { throw TestBedMissing(key: "a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
