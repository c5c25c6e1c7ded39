import Foundation
import Synchronization

/// A serial executor that owns one OS thread.
///
/// libpq calls block (connect, query, COPY). Running them on an actor backed by this executor
/// keeps them off Swift's cooperative pool, which has only as many threads as cores: one slow
/// query must not stall every other task in the process.
final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private struct State {
        var jobs: [UnownedJob] = []
        var stopping = false
    }

    private let condition = NSCondition()
    private var state = State()  // guarded by `condition`

    init(name: String) {
        let thread = Thread { [self] in runLoop() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        state.jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread finish the jobs already queued and exit.
    func shutdown() {
        condition.lock()
        state.stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        let me = asUnownedSerialExecutor()
        while true {
            condition.lock()
            while state.jobs.isEmpty && !state.stopping { condition.wait() }
            let batch = state.jobs
            state.jobs.removeAll(keepingCapacity: true)
            let done = batch.isEmpty && state.stopping
            condition.unlock()
            if done { return }
            for job in batch { job.runSynchronously(on: me) }
        }
    }
}
