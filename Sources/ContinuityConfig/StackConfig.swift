import Compression
import Foundation
import OperatorErrors
import Yams

/// One stack of a config file's `stacks:` section: everything the hooks, the agent and
/// `config check` need to act on it, checked when read. DSNs stay text here (the client layer
/// parses them); their passwords come only from the environment, .pgpass or `password_file`.
public struct StackConfig: Sendable {
    /// A node's connection string and, from `password_file`, its password (never printed).
    public struct NodeConfig: Sendable, CustomStringConvertible {
        public let dsn: String
        public let passwordFile: String?
        public let password: String?
        public var description: String { dsn + (passwordFile.map { " (password from \($0))" } ?? "") }
    }

    public enum Router: Sendable, Equatable, CustomStringConvertible {
        case none, pgbouncer, command(path: String)

        public var description: String {
            switch self {
            case .none: "none"
            case .pgbouncer: "pgbouncer"
            case .command(let path): "command:\(path)"
            }
        }
    }

    public let name: String
    /// The database snapshots are taken of (pre-destroy, schedules) and streamed from.
    public var source: NodeConfig?
    /// The database restores go into (post-create) and the stream applies to.
    public var target: NodeConfig?
    public var store: String
    public var fence: String = "none"
    public var compression: Codec = .gzip(level: Codec.defaultGzipLevel)
    public var jobs: Int?
    public var keep: Int?
    public var schedule: CronSchedule?
    public var stream = false
    public var slot = "continuity"
    public var publication: String?
    public var router: Router = .none
    public var pgbouncerAdmin: NodeConfig?
    public var pgbouncerConfig: String?
    public var pgbouncerDatabase: String?
    public var maxPause: Duration?
    public var maxLag: Duration?
    /// Run with CONTINUITY_LIFECYCLE_ACTION=heartbeat|complete during `hook pre-destroy`.
    public var lifecycleCommand: String?
    /// The line each key was on, for errors the layers above find in a value (a DSN libpq refuses).
    public var lines: [String: Int] = [:]

    public static let keys = [
        "source", "target", "store", "fence", "compression", "jobs", "keep", "schedule", "stream", "slot", "publication",
        "router", "pgbouncer_admin", "pgbouncer_config", "pgbouncer_database", "max_pause", "max_lag", "lifecycle_command",
    ]
    static let nodeKeys = ["dsn", "password_file"]

    init(name: String, node: Node, reader: ConfigNodes) throws(UsageError) {
        self.name = name
        let prefix = "stacks.\(name)"
        let pairs = try reader.mapping(node, key: prefix, known: Self.keys)
        guard let storeNode = pairs.first(where: { $0.key == "store" })?.value else {
            throw reader.error(prefix, node, "has no store", fix: "add 'store: file:///…' or 's3://bucket/prefix?…' to the stack")
        }
        store = try reader.string(storeNode, key: "\(prefix).store")
        for (key, value) in pairs {
            let path = "\(prefix).\(key)"
            lines[key] = value.mark?.line
            switch key {
            case "source": source = try Self.nodeConfig(value, key: path, reader: reader)
            case "target": target = try Self.nodeConfig(value, key: path, reader: reader)
            case "store": break
            case "fence":
                fence = try reader.string(value, key: path)
                guard ["none", "readonly", "pgbouncer"].contains(fence) else {
                    throw reader.error(path, value, "unknown fence '\(fence)'", fix: "use readonly, pgbouncer or none")
                }
            case "compression": compression = try reader.parsed(value, key: path) { text throws(UsageError) in try Codec(parsing: text) }
            case "jobs": jobs = try reader.integer(value, key: path, range: 1...256)
            case "keep": keep = try reader.integer(value, key: path, range: 1...10_000)
            case "schedule": schedule = try reader.parsed(value, key: path) { text throws(UsageError) in try CronSchedule(parsing: text) }
            case "stream": stream = try reader.bool(value, key: path)
            case "slot":
                slot = try reader.string(value, key: path)
                // PostgreSQL's rule for slot names.
                guard slot.count <= 63, slot.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
                    throw reader.error(path, value, "'\(slot)' is not a usable slot name", fix: "use lower-case letters, digits and underscores (at most 63)")
                }
            case "publication": publication = try reader.string(value, key: path)
            case "router": router = try reader.parsed(value, key: path, Self.router)
            case "pgbouncer_admin": pgbouncerAdmin = try Self.nodeConfig(value, key: path, reader: reader)
            case "pgbouncer_config": pgbouncerConfig = try reader.string(value, key: path)
            case "pgbouncer_database": pgbouncerDatabase = try reader.string(value, key: path)
            case "max_pause": maxPause = try reader.parsed(value, key: path, DurationText.parse)
            case "max_lag": maxLag = try reader.parsed(value, key: path, DurationText.parse)
            case "lifecycle_command": lifecycleCommand = try reader.string(value, key: path)
            default: break
            }
        }
        if pgbouncerAdmin == nil, fence == "pgbouncer" || router == .pgbouncer {
            let key = fence == "pgbouncer" ? "fence" : "router"
            let value = pairs.first { $0.key == key }?.value
            throw reader.error("\(prefix).\(key)", value, "pgbouncer needs PgBouncer's admin console",
                               fix: "add pgbouncer_admin: 'host=… port=6432 dbname=pgbouncer user=…' to the stack")
        }
    }

    private static func router(_ text: String) throws(UsageError) -> Router {
        switch text {
        case "none": return .none
        case "pgbouncer": return .pgbouncer
        default:
            guard text.hasPrefix("command:"), text.count > "command:".count else {
                throw UsageError("unknown router '\(text)'", fix: "use pgbouncer, none or command:PATH")
            }
            return .command(path: String(text.dropFirst("command:".count)))
        }
    }

    /// A DSN as text, or `{dsn: …, password_file: …}`.
    private static func nodeConfig(_ node: Node, key: String, reader: ConfigNodes) throws(UsageError) -> NodeConfig {
        var dsnNode = node
        var passwordFile: String?
        var password: String?
        if node.mapping != nil {
            let pairs = try reader.mapping(node, key: key, known: nodeKeys)
            guard let dsn = pairs.first(where: { $0.key == "dsn" })?.value else {
                throw reader.error(key, node, "has no dsn", fix: "give dsn: 'host=… dbname=… user=…'")
            }
            dsnNode = dsn
            if let fileNode = pairs.first(where: { $0.key == "password_file" })?.value {
                let path = try reader.string(fileNode, key: "\(key).password_file")
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw reader.error("\(key).password_file", fileNode, "cannot read \(path)", fix: "check the path and that this user may read it")
                }
                passwordFile = path
                password = text.trimmingCharacters(in: .newlines)
            }
        }
        let dsnKey = node.mapping != nil ? "\(key).dsn" : key
        let dsn = try reader.string(dsnNode, key: dsnKey)
        if InlinePassword.present(in: dsn) {
            throw reader.error(dsnKey, dsnNode, "holds a password inline",
                               fix: "remove it; give it through PGPASSWORD, PGPASSFILE (.pgpass) or password_file")
        }
        return NodeConfig(dsn: dsn, passwordFile: passwordFile, password: password)
    }
}

extension StackConfig {
    /// The stack's settings under the commands' option names, for `Settings`' file layer. Its
    /// fence is left out: it is pre-destroy's, and a scheduled `snapshot --stack` must not stop
    /// writes. The cutover's keys are in, so the agent's `cutover` child (CONTINUITY_STACK) gets
    /// them, and PgBouncer's console password from its password_file, never through argv.
    var optionValues: [String: String] {
        var values: [String: String] = ["stack": name, "store": store, "compression": compression.description]
        values["source"] = source?.dsn
        values["source-password"] = source?.password
        values["target"] = target?.dsn
        values["target-password"] = target?.password
        values["pgbouncer-admin"] = pgbouncerAdmin?.dsn
        values["pgbouncer-admin-password"] = pgbouncerAdmin?.password
        // Only when the stack says: its default must not hide a flat `router:` key.
        values["router"] = lines["router"] != nil ? router.description : nil
        values["pgbouncer-config"] = pgbouncerConfig
        values["pgbouncer-database"] = pgbouncerDatabase
        values["max-pause"] = maxPause.map(DurationText.format)
        values["max-lag"] = maxLag.map(DurationText.format)
        values["jobs"] = jobs.map(String.init)
        values["keep"] = keep.map(String.init)
        values["slot"] = slot
        values["publication"] = publication
        return values
    }
}
