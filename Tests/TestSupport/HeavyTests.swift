/// At most `limit` tests that start whole process trees (a PgBouncer, streams, a cutover and
/// its watchdog, an agent and its children) run at once. Swift Testing starts every async test
/// at once; on two cores a burst of such trees starved everything else (streams took over 20 s
/// to start, a writer made under one commit a second).
public actor HeavyTests {
    public static let shared = HeavyTests(limit: 3)

    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    /// Runs `body` once a place is free (the body runs in the caller's context, not the actor's).
    public nonisolated func run<T>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        do {
            let value = try await body()
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }

    private func acquire() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the place straight to the next waiter, if any.
    private func release() {
        if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
    }
}
