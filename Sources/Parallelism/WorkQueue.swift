/// Hands out jobs one at a time, in order, to whichever worker asks first.
public actor WorkQueue<Job: Sendable> {
    private let jobs: [Job]
    private var position = 0

    public init(_ jobs: [Job]) { self.jobs = jobs }

    public func next() -> Job? {
        guard position < jobs.count else { return nil }
        defer { position += 1 }
        return jobs[position]
    }
}
