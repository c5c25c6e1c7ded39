import PostgresTypes
import PostgresClient

/// When a stream session commits, records an idle position, reports to the active and syncs
/// sequences: the rules of `StreamSession`'s loop, free of I/O. Each call takes the time
/// (`now`, the clock by default) so the rules are tested without waiting.
///
/// A group is also committed by size and age as source commits arrive
/// (`StreamApplier.GroupLimits`); these rules decide what happens after each round of frames.
struct SessionTiming {
    private var lastIdleRecord: ContinuousClock.Instant
    private var lastStatus: ContinuousClock.Instant
    /// The flushed position the last status update reported.
    private var reported = LSN.zero
    private var lastSequenceSync: ContinuousClock.Instant

    init(now: ContinuousClock.Instant = .now) {
        // An idle position and the sequences are due at once; a status update in a second.
        lastIdleRecord = now - .seconds(60)
        lastStatus = now
        lastSequenceSync = now - .seconds(60)
    }

    /// Sequences are synced every five seconds (through sessions of their own).
    func sequencesDue(now: ContinuousClock.Instant = .now) -> Bool {
        now - lastSequenceSync > .seconds(5)
    }

    mutating func sequencesSynced(now: ContinuousClock.Instant = .now) {
        lastSequenceSync = now
    }

    /// How the group under way ends after a round of `received` frames, `limit` at most.
    enum GroupEnd: Equatable {
        /// Commit it and wait for the answer (a round trip), so the commit is reported now.
        case commit
        /// Commit it if it has been open this long, and wait for the answer.
        case commitIfOpenFor(Duration)
        /// More is waiting: keep folding.
        case keepOpen
    }

    /// Nothing more waiting: commit the group now. A short round may only mean the socket ran
    /// dry for a moment while a backlog drains: commit once the group has been open 20 ms, so
    /// a catch-up commits in large groups and a steady flow promptly; otherwise the next round
    /// waits only `idleWindow` (`receiveTimeout`) and, empty, commits. (20 ms, not 50: a burst
    /// of WAL reaches the stream a frame at a time from a busy walsender, and the active samples
    /// its replay lag at a burst's first commit, so the whole time the group stays open counts.)
    static func groupEnd(received: Int, limit: Int) -> GroupEnd {
        if received == 0 { return .commit }
        return received < limit ? .commitIfOpenFor(.milliseconds(20)) : .keepOpen
    }

    /// How long the socket must stay silent, after a short round, before the group is
    /// committed: a backlog being decoded arrives with far shorter gaps, while a burst of WAL
    /// (an active with synchronous_commit off flushes every wal_writer_delay, 200 ms by
    /// default, and the walsender sends only flushed WAL) or a lone commit is followed by
    /// silence. Waiting for the next input instead held each burst for a whole
    /// wal_writer_delay, or the 500 ms receive timeout, before it was on the passive.
    static let idleWindow: Duration = .milliseconds(5)

    /// How long a round waits for its first frame: `idleWindow` while something received is
    /// not committed and could be (`pending`: no source transaction is half received, whose
    /// rest comes without waiting); otherwise up to half a second, so a stop is seen and an
    /// idle stream asks for a keepalive (`statusDue`).
    static func receiveTimeout(pending: Bool) -> Duration {
        pending ? idleWindow : .milliseconds(500)
    }

    /// The keepalive position to record as applied, or nil. Only when everything received is
    /// committed (`idle`) and the keepalive is past what is applied; at most once a second,
    /// except when it reaches the target (the run can end there at once).
    func idlePosition(idle: Bool, keepalive: LSN?, applied: LSN, target: LSN?,
                      now: ContinuousClock.Instant = .now) -> LSN? {
        guard idle, let keepalive, keepalive > applied else { return nil }
        guard target.map({ keepalive >= $0 }) == true || now - lastIdleRecord >= .seconds(1) else { return nil }
        return keepalive
    }

    mutating func idleRecorded(now: ContinuousClock.Instant = .now) {
        lastIdleRecord = now
    }

    /// Whether to send a standby status update now: the active asked for one; nothing arrived
    /// (`quiet`: the update then asks for a keepalive, so an idle stream learns the server's
    /// position, and --until sees it, at once rather than in wal_sender_timeout/2); a second has passed; or a new
    /// commit is to be reported: at once, since the active takes its replay lag sample when an
    /// update covers the commit (and a cutover waits for it). A commit costs a round trip to
    /// the passive, so this is at most one small message per group.
    func statusDue(replyRequested: Bool, quiet: Bool, flushed: LSN, now: ContinuousClock.Instant = .now) -> Bool {
        replyRequested || quiet || now - lastStatus > .seconds(1) || flushed > reported
    }

    mutating func statusSent(flushed: LSN, now: ContinuousClock.Instant = .now) {
        lastStatus = now
        reported = flushed
    }
}
