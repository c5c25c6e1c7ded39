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
    /// dry for a moment while a backlog drains: commit once the group has been open 50 ms, so
    /// a catch-up commits in large groups and a trickle promptly.
    static func groupEnd(received: Int, limit: Int) -> GroupEnd {
        if received == 0 { return .commit }
        return received < limit ? .commitIfOpenFor(.milliseconds(50)) : .keepOpen
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
    /// commit is to be reported, at most every 20 ms, so the active's replay lag is the real one.
    func statusDue(replyRequested: Bool, quiet: Bool, flushed: LSN, now: ContinuousClock.Instant = .now) -> Bool {
        let since = now - lastStatus
        return replyRequested || quiet || since > .seconds(1) || (flushed > reported && since > .milliseconds(20))
    }

    mutating func statusSent(flushed: LSN, now: ContinuousClock.Instant = .now) {
        lastStatus = now
        reported = flushed
    }
}
