/// Which post-data step may start now: the first waiting one (biggest tables first) whose lock
/// conflicts with no running step and, for an ANALYZE, whose table has nothing else left.
/// Pure bookkeeping; `PostDataQueue` puts sessions to sleep while nothing may start.
struct PostDataSchedule {
    let steps: [PostDataStep]
    private var waiting: [Int]
    private var running: Set<Int> = []

    init(_ steps: [PostDataStep]) {
        self.steps = steps
        waiting = steps.indices.sorted { steps[$0].weight != steps[$1].weight ? steps[$0].weight > steps[$1].weight : $0 < $1 }
    }

    /// Nothing waits any more (some steps may still run).
    var isDrained: Bool { waiting.isEmpty }

    /// The index of the step to run next, now marked running; nil if none may start yet.
    mutating func start() -> Int? {
        guard let position = waiting.firstIndex(where: mayStart) else { return nil }
        let index = waiting.remove(at: position)
        running.insert(index)
        return index
    }

    mutating func finish(_ index: Int) {
        running.remove(index)
    }

    private func mayStart(_ index: Int) -> Bool {
        let step = steps[index]
        if running.contains(where: { steps[$0].conflicts(with: step) }) { return false }
        guard step.runsLast else { return true }
        let sameTable = { (other: Int) in other != index && (steps[other].relation == nil || steps[other].relation == step.relation) }
        return !waiting.contains(where: sameTable) && !running.contains(where: sameTable)
    }
}

/// Hands post-data steps to sessions as their locks allow. A session that asks while nothing
/// may start waits until a running step finishes; once nothing waits, every session gets nil.
actor PostDataQueue {
    private var schedule: PostDataSchedule
    private var sleepers: [CheckedContinuation<Void, Never>] = []
    private var abandoned = false

    init(_ steps: [PostDataStep]) {
        schedule = PostDataSchedule(steps)
    }

    /// The next step and its ticket for `finished`; nil when there is nothing left to start.
    func next() async -> (ticket: Int, step: PostDataStep)? {
        if abandoned || schedule.isDrained { return nil }
        if let index = schedule.start() { return (index, schedule.steps[index]) }
        await withCheckedContinuation { sleepers.append($0) }
        return await next()
    }

    func finished(_ ticket: Int) {
        schedule.finish(ticket)
        wakeAll()
    }

    /// A session failed: the others stop asking, so the failure ends the run.
    func abandon() {
        abandoned = true
        wakeAll()
    }

    private func wakeAll() {
        let woken = sleepers
        sleepers.removeAll()
        for sleeper in woken { sleeper.resume() }
    }
}
