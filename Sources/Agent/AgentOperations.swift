import ContinuityConfig
import Foundation
import Logging
import Synchronization

/// Runs the agent's operations for HTTP requests and schedules alike: the per-stack lock, the
/// child, the metrics its report feeds.
final class AgentOperations: Sendable {
    enum Outcome: Sendable {
        case ran(ChildResult)
        case busy(holder: String)
        case stopping
    }

    let children: Children
    let locks = StackLocks()
    let metrics: AgentMetrics
    let logger: Logger
    private let streaming: [String]
    /// When each streaming stack's figures were last read, and whether a read is under way.
    private let statusReads = Mutex<(last: [String: ContinuousClock.Instant], reading: Bool)>(([:], false))
    /// Figures at most this old are served as they are: a scrape costs a `stream status` child
    /// only this often, and only when someone scrapes.
    static let statusFreshFor = Duration.seconds(5)

    init(children: Children, metrics: AgentMetrics, streaming: [String], logger: Logger) {
        self.children = children
        self.metrics = metrics
        self.streaming = streaming
        self.logger = logger
    }

    /// One operation under the stack's lock.
    func perform(_ operation: AgentOperation, stack: String, arguments: [String]) async throws -> Outcome {
        if let holder = locks.acquire(stack, for: operation.route) { return .busy(holder: holder) }
        defer { locks.release(stack) }
        logger.info("\(operation.route) of stack \(stack) started")
        guard let result = try await children.run(arguments, stack: stack) else { return .stopping }
        logger.info("\(operation.route) of stack \(stack) ended with exit status \(result.status)")
        switch operation {
        case .snapshot: metrics.snapshotEnded(stack, result, at: Date())
        case .cutover: metrics.cutoverEnded(stack, result)
        default: break
        }
        return .ran(result)
    }

    enum ScheduledOutcome {
        /// Ran (either way), or found the stack busy: the next slot.
        case ranOrBusy
        /// `SnapshotGate` said no: a retry soon.
        case skipped
    }

    /// A scheduled snapshot if `SnapshotGate` allows it, then retention when the stack has
    /// `keep`. A slot that finds the stack busy is skipped: whatever holds it (a hook, a
    /// restore, another snapshot) is not queued behind.
    func scheduledSnapshot(_ stack: StackConfig) async -> ScheduledOutcome {
        async let source = SnapshotGateFacts.read(stack.source)
        async let stored = storeHasSnapshots(stack.name)
        if case .skip(let reason, let failed) = SnapshotGate.verdict(source: await source, storeHasSnapshots: await stored) {
            if failed {
                logger.error("scheduled snapshot of stack \(stack.name) skipped: \(reason); trying again shortly")
                metrics.snapshotSkipped(stack.name)
            } else {
                logger.warning("scheduled snapshot of stack \(stack.name) skipped: \(reason); trying again shortly")
            }
            return .skipped
        }
        do {
            switch try await perform(.snapshot, stack: stack.name, arguments: AgentOperation.snapshot.command) {
            case .busy(let holder):
                logger.notice("scheduled snapshot of stack \(stack.name) skipped: \(holder) is running on it")
            case .stopping:
                break
            case .ran(let result) where result.status == 0:
                guard stack.keep != nil else { return .ranOrBusy }
                if let holder = locks.acquire(stack.name, for: "snapshots prune") {
                    logger.notice("retention of stack \(stack.name) skipped: \(holder) is running on it")
                    return .ranOrBusy
                }
                defer { locks.release(stack.name) }
                if let pruned = try await children.run(["snapshots", "prune"], stack: stack.name), pruned.status != 0 {
                    logger.error("retention of stack \(stack.name) failed with exit status \(pruned.status)")
                }
            case .ran(let result):
                logger.error("scheduled snapshot of stack \(stack.name) failed with exit status \(result.status)")
            }
        } catch {
            logger.error("scheduled snapshot of stack \(stack.name) could not start: \(error)")
        }
        return .ranOrBusy
    }

    /// Whether the store holds a complete snapshot of the stack (`snapshots list --json`); nil
    /// when it cannot be listed now.
    func storeHasSnapshots(_ stack: String) async -> Bool? {
        guard let result = try? await children.run(["snapshots", "list"], stack: stack), result.status == 0,
              let rows = (try? JSONSerialization.jsonObject(with: result.output)) as? [Any] else { return nil }
        return !rows.isEmpty
    }

    /// The newest complete snapshot's end, from `snapshots list --json` (newest first); nil when
    /// there is none or the store cannot be read now.
    func newestSnapshot(_ stack: String) async -> Date? {
        guard let result = try? await children.run(["snapshots", "list"], stack: stack), result.status == 0,
              let rows = (try? JSONSerialization.jsonObject(with: result.output)) as? [[String: Any]],
              let text = rows.first?["finished_at"] as? String,
              let date = ISO8601DateFormatter().date(from: text) else { return nil }
        metrics.snapshotFound(stack, finishedAt: date)
        return date
    }

    /// Before a scrape: each streaming stack's `stream status`, unless read within
    /// `statusFreshFor` or another scrape is reading it now.
    func refreshStreamFigures() async {
        let now = ContinuousClock.now
        let due: [String] = statusReads.withLock { state in
            guard !state.reading else { return [] }
            let due = streaming.filter { state.last[$0].map { now - $0 >= Self.statusFreshFor } ?? true }
            state.reading = !due.isEmpty
            return due
        }
        guard !due.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            for stack in due {
                group.addTask { [self] in
                    guard let result = try? await children.run(["stream", "status"], stack: stack) else { return }
                    let read = result.status == 0 && metrics.streamStatus(stack, result.output)
                    metrics.streamUp(stack, read && children.runs(["stream"], stack: stack))
                }
            }
        }
        statusReads.withLock { state in
            for stack in due { state.last[stack] = .now }
            state.reading = false
        }
    }
}
