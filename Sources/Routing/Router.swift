// PLACEHOLDER until the router branch merges: the interface the cutover executor drives.
import OperatorErrors
import PostgresClient

public struct RouterNode: Codable, Sendable, Equatable {
    public var host: String
    public var port: Int
    public var dbname: String
}

public enum RouterSpec: Codable, Sendable, Equatable {
    case pgbouncer(admin: String, config: String, database: String)
    case none
    case command(path: String)

    public func makeRouter(from: RouterNode, to: RouterNode) -> any Router { fatalError() }
}
extension RouterNode {
    public init(_ dsn: ConnectionString) throws(UsageError) { fatalError() }
}

public protocol Router: Sendable {
    var description: String { get }
    func preflight() async -> [String]
    func pause(deadline: ContinuousClock.Instant) async throws
    func repoint() async throws
    func reload() async throws
    func resume() async throws
    func rollBack() async throws
}

public struct PauseHeld: OperatorError {
    public let holders: [String]
    public var status: ExitStatus { .failed }
    public var problem: String { "held" }
    public var fix: String? { nil }
}
extension RouterSpec {
    public init(parsing: String, pgbouncerAdmin: String?, pgbouncerConfig: String?, pgbouncerDatabase: String?, sourceDatabase: String) throws(UsageError) { fatalError() }
}
