import ContinuityConfig
import Foundation

/// When a stack's scheduled snapshot runs. Pure: times in, times out.
///
/// The last run is the newest snapshot of the stack in its store (`snapshots list`), read when
/// the agent starts, so no state file is needed and a snapshot taken by a hook or over HTTP
/// counts too. A slot missed while the agent was down runs once, at start, however many were
/// missed; a stack with no snapshot at all waits for its first slot (an empty store is often
/// a stack just being set up). After a run, the next slot is the first one after the later of
/// the slot and the run's end: a snapshot longer than the interval skips the slots it overran
/// instead of running back to back.
public struct SchedulePolicy: Sendable {
    public let schedule: CronSchedule

    public init(_ schedule: CronSchedule) {
        self.schedule = schedule
    }

    /// The first run after a start at `now`.
    public func firstRun(lastRun: Date?, now: Date) -> Date? {
        if let lastRun, let missed = schedule.next(after: lastRun), missed <= now { return now }
        return schedule.next(after: now)
    }

    /// The run after one due at `due` that ended at `finished` (or found the stack busy then).
    public func nextRun(due: Date, finished: Date) -> Date? {
        schedule.next(after: max(due, finished))
    }

    /// How soon a slot `SnapshotGate` skipped is tried again: a restore or a PostgreSQL just
    /// starting is usually over in minutes, and the next slot may be hours away.
    public static let retryAfterSkip: TimeInterval = 60

    /// The try after a slot due at `due` that `SnapshotGate` skipped at `now`: the sooner of a
    /// retry and the next slot.
    public func afterSkip(due: Date, now: Date) -> Date? {
        let retry = now.addingTimeInterval(Self.retryAfterSkip)
        guard let slot = nextRun(due: due, finished: now) else { return retry }
        return min(slot, retry)
    }
}

/// How long a stream supervisor waits before starting `stream` again. Pure: the time the child
/// ran is passed in. 1 s doubling to 60 s; a child that ran a minute or more was healthy, and
/// its end starts a fresh series.
public struct RestartBackoff: Sendable {
    public static let first = Duration.seconds(1)
    public static let longest = Duration.seconds(60)
    /// A run at least this long resets the series.
    public static let healthy = Duration.seconds(60)
    private var failures = 0

    public init() {}

    public mutating func delay(afterRunning ran: Duration) -> Duration {
        if ran >= Self.healthy { failures = 0 }
        defer { failures += 1 }
        return min(Self.first * (1 << min(failures, 6)), Self.longest)
    }
}
