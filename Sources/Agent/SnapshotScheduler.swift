import ContinuityConfig
import Foundation
import ServiceLifecycle

/// One stack's scheduled snapshots (`SchedulePolicy`), each behind `SnapshotGate`, with
/// retention after each.
struct SnapshotScheduler: Service {
    let stack: StackConfig
    let policy: SchedulePolicy
    let operations: AgentOperations

    func run() async throws {
        let lastRun = await operations.newestSnapshot(stack.name)
        var due = policy.firstRun(lastRun: lastRun, now: Date())
        while let next = due, await sleep(until: next) {
            switch await operations.scheduledSnapshot(stack) {
            case .ranOrBusy: due = policy.nextRun(due: next, finished: Date())
            case .skipped: due = policy.afterSkip(due: next, now: Date())
            }
        }
        // Stay until the agent stops: a service that returns would end the whole group.
        try? await gracefulShutdown()
    }

    /// False when the agent is stopping meanwhile.
    private func sleep(until date: Date) async -> Bool {
        do {
            try await cancelWhenGracefulShutdown {
                try await Task.sleep(for: .milliseconds(max(0, Int64(date.timeIntervalSinceNow * 1000))))
            }
            return true
        } catch {
            return false
        }
    }
}
