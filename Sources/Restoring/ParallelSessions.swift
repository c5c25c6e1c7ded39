import Parallelism
import PostgresClient

/// Runs `body` for every item on up to `jobs` connections to `target`, each taking the next
/// item as it finishes one. `prepare` runs once per connection first. The first error stops
/// the lot.
public func forEachInParallel<Item: Sendable>(_ items: [Item], target: ConnectionString, jobs: Int,
                                       prepare: String? = nil,
                                       _ body: @escaping @Sendable (Item, Connection) async throws -> Void) async throws {
    let queue = WorkQueue(items)
    try await forEachSession(target: target, count: min(jobs, items.count), prepare: prepare) { connection in
        while let item = await queue.next() { try await body(item, connection) }
    }
}

/// Opens `count` sessions to `target` (none if `count` is 0), runs `prepare` on each, then
/// `body` with each, concurrently. The first error stops the lot.
func forEachSession(target: ConnectionString, count: Int, prepare: String?,
                    _ body: @escaping @Sendable (Connection) async throws -> Void) async throws {
    guard count > 0 else { return }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<count {
            group.addTask {
                try await Connection.with(target) { connection in
                    // A crash mid-restore means re-running it anyway; the final bookkeeping
                    // commit is synchronous and flushes everything before it.
                    try await connection.execute("SET synchronous_commit = off")
                    if let prepare { try await connection.execute(prepare) }
                    try await body(connection)
                }
            }
        }
        try await group.waitForAll()
    }
}
