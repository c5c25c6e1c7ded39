import Fencing
import OperatorErrors
import PostgresClient
import PostgresTypes

/// No router at all: clients connect to the nodes directly. The pause is the old active's
/// read-only fence (Fencing's `ReadOnlyFence`: `default_transaction_read_only` on its database
/// and its other client sessions ended, so transactions in flight there are rolled back, not
/// drained); clients must then be pointed at the new active by whoever runs them.
struct ReadOnlyRouter: Router {
    let from: RouterNode
    let to: RouterNode

    var description: String {
        "no router: \(from) is fenced read-only and clients must now connect to \(to)"
    }

    func preflight() async -> [String] {
        do {
            try await Connection.with(try from.connectionString(), options: .init(connectTimeout: 5)) { session in
                try await session.query("SELECT 1")
            }
            return []
        } catch {
            return ["cannot reach the source \(from) to fence it: \((error as? any OperatorError)?.problem ?? "\(error)")"]
        }
    }

    /// Drains nothing (sessions are ended, not waited for to finish), so the deadline is not needed.
    func pause(deadline: ContinuousClock.Instant) async throws {
        _ = try await Fence.readonly.apply(to: try from.connectionString())
    }

    func repoint() async throws {}

    func resume() async throws {}

    func rollBack() async throws {
        try await Connection.with(try from.connectionString()) { try await ReadOnlyFence.lift(on: $0) }
    }
}
