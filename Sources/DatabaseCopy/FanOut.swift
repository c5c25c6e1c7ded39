import Parallelism
import PostgresClient

/// The one way work is spread over sessions: up to `workers` tasks run side by side, each
/// taking the next item from one queue as it finishes one, until none is left. Snapshot
/// (parts into the store), restore (parts into the target, post-data steps) and the initial
/// copy (parts from the active into the passive) differ only in what a worker opens and does.
/// The first error stops the lot.
public enum FanOut {
    /// Runs `worker` on up to `workers` tasks (at least one, never more than there are items; none
    /// when there are none), each with `next`, which hands out `items` in order; returns each
    /// worker's output.
    public static func run<Item: Sendable, Output: Sendable>(
        _ items: [Item], workers: Int,
        _ worker: @escaping @Sendable (_ next: @escaping @Sendable () async -> Item?) async throws -> Output
    ) async throws -> [Output] {
        let queue = WorkQueue(items)
        return try await run(workers: min(max(workers, 1), items.count)) { try await worker { await queue.next() } }
    }

    /// Runs `worker` on `workers` tasks (none if 0) side by side; returns what each returned.
    public static func run<Output: Sendable>(workers: Int,
                                             _ worker: @escaping @Sendable () async throws -> Output) async throws -> [Output] {
        guard workers > 0 else { return [] }
        return try await withThrowingTaskGroup(of: Output.self) { group in
            for _ in 0..<workers { group.addTask(operation: worker) }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// Restore's sessions: `count` connections to `target` (none if 0), each with
    /// `synchronous_commit` off and `prepare` run first, then `body` on each, side by side.
    public static func targetSessions(_ target: ConnectionString, count: Int, prepare: String? = nil,
                                      _ body: @escaping @Sendable (Connection) async throws -> Void) async throws {
        _ = try await run(workers: count) {
            try await Connection.with(target) { connection in
                try await prepareTarget(connection, then: prepare)
                try await body(connection)
            }
        }
    }

    /// Runs `body` for every item on up to `jobs` sessions to `target`, each prepared as
    /// `targetSessions` prepares them, taking items from one queue (`run`).
    public static func forEach<Item: Sendable>(_ items: [Item], target: ConnectionString, jobs: Int, prepare: String? = nil,
                                               _ body: @escaping @Sendable (Item, Connection) async throws -> Void) async throws {
        _ = try await run(items, workers: jobs) { next in
            try await Connection.with(target) { connection in
                try await prepareTarget(connection, then: prepare)
                while let item = await next() { try await body(item, connection) }
            }
        }
    }

    /// A session that loads data into a target. A crash mid-load means re-running it anyway
    /// (restore or `--init copy --clean`); the final bookkeeping commit is synchronous and
    /// flushes everything before it.
    public static func prepareTarget(_ connection: Connection, then prepare: String? = nil) async throws {
        try await connection.execute("SET synchronous_commit = off")
        if let prepare { try await connection.execute(prepare) }
    }
}
