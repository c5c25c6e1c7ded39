import ContinuityConfig
import OperatorErrors
import PostgresClient
import SnapshotStore

/// A stack of the config file made ready to act on: DSNs parsed by libpq's rules with their
/// `password_file` passwords set, the store opened. Errors name the key and its line.
public struct HookStack: Sendable {
    public let config: StackConfig
    public let configPath: String
    public let store: any SnapshotStore

    public init(_ config: StackConfig, configPath: String) throws {
        self.config = config
        self.configPath = configPath
        do {
            store = try StoreURL.open(config.store)
        } catch let error as any OperatorError {
            // Its own status: a store directory that does not exist fails (1), as for `snapshot`.
            let problem = "config file \(configPath)\(Self.line(config, "store")): stacks.\(config.name).store: \(error.problem)"
            switch error.status {
            case .badInput: throw UsageError(problem, fix: error.fix)
            case .refused: throw Refusal(problem, fix: error.fix)
            default: throw Failure(problem, fix: error.fix)
            }
        }
    }

    /// The source, for pre-destroy's fence and snapshot.
    public func source() throws -> ConnectionString { try node("source", config.source) }

    /// The target, for post-create's restore.
    public func target() throws -> ConnectionString { try node("target", config.target) }

    public func pgbouncerAdmin() throws -> ConnectionString? {
        guard config.pgbouncerAdmin != nil else { return nil }
        return try node("pgbouncer_admin", config.pgbouncerAdmin)
    }

    private func node(_ key: String, _ node: StackConfig.NodeConfig?) throws -> ConnectionString {
        let name = "stacks.\(config.name).\(key)"
        guard let node else {
            throw UsageError("config file \(configPath): \(name) is missing", fix: "add '\(key): \"host=… dbname=… user=…\"' to the stack")
        }
        var dsn: ConnectionString
        do {
            dsn = try ConnectionString(node.dsn)
        } catch {
            throw UsageError("config file \(configPath)\(Self.line(config, key)): \(name): \(error.problem)", fix: error.fix)
        }
        if let password = node.password { dsn = dsn.setting("password", to: password) }
        return dsn
    }

    private static func line(_ config: StackConfig, _ key: String) -> String {
        config.lines[key].map { " line \($0)" } ?? ""
    }
}
