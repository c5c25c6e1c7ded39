import Parallelism
import PostgresClient

/// Runs `body` for every item on up to `jobs` connections to `target`, each taking the next
/// item as it finishes one. `prepare` runs once per connection first. The first error stops
/// the lot.
public func forEachInParallel<Item: Sendable>(_ items: [Item], target: ConnectionString, jobs: Int,
                                       prepare: String? = nil,
                                       _ body: @escaping @Sendable (Item, Connection) async throws -> Void) async throws {
    guard !items.isEmpty else { return }
    let queue = WorkQueue(items)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<max(1, min(jobs, items.count)) {
            group.addTask {
                try await Connection.with(target) { connection in
                    // A crash mid-restore means re-running it anyway; the final bookkeeping
                    // commit is synchronous and flushes everything before it.
                    try await connection.execute("SET synchronous_commit = off")
                    if let prepare { try await connection.execute(prepare) }
                    while let item = await queue.next() { try await body(item, connection) }
                }
            }
        }
        try await group.waitForAll()
    }
}
