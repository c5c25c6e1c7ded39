import PostgresTypes
import PostgresClient
@testable import Streaming
import Testing

/// The session's timing rules with no server and no waiting: every call is given the time.
@Suite struct SessionTimingTests {
    let start = ContinuousClock.now

    @Test func theGroupEndsAtOnceWhenNothingIsWaitingAndAfter20msWhenTheRoundWasShort() {
        #expect(SessionTiming.groupEnd(received: 0, limit: 1024) == .commit)
        #expect(SessionTiming.groupEnd(received: 1, limit: 1024) == .commitIfOpenFor(.milliseconds(20)))
        #expect(SessionTiming.groupEnd(received: 1023, limit: 1024) == .commitIfOpenFor(.milliseconds(20)))
        #expect(SessionTiming.groupEnd(received: 1024, limit: 1024) == .keepOpen)
    }

    @Test func sequencesAreSyncedAtOnceThenEveryFiveSeconds() {
        var timing = SessionTiming(now: start)
        #expect(timing.sequencesDue(now: start))
        timing.sequencesSynced(now: start)
        #expect(!timing.sequencesDue(now: start + .seconds(5)))
        #expect(timing.sequencesDue(now: start + .seconds(5) + .milliseconds(1)))
    }

    /// Recorded only when idle and past what is applied, at most once a second unless the
    /// keepalive reaches the target.
    @Test func idlePositionsAreRecordedOnceASecondOrAtTheTarget() {
        var timing = SessionTiming(now: start)
        let applied = LSN(rawValue: 100), keepalive = LSN(rawValue: 200)
        #expect(timing.idlePosition(idle: true, keepalive: keepalive, applied: applied, target: nil, now: start) == keepalive)
        #expect(timing.idlePosition(idle: false, keepalive: keepalive, applied: applied, target: nil, now: start) == nil)
        #expect(timing.idlePosition(idle: true, keepalive: nil, applied: applied, target: nil, now: start) == nil)
        #expect(timing.idlePosition(idle: true, keepalive: applied, applied: applied, target: nil, now: start) == nil)
        timing.idleRecorded(now: start)
        let soon = start + .milliseconds(999)
        #expect(timing.idlePosition(idle: true, keepalive: keepalive, applied: applied, target: nil, now: soon) == nil)
        #expect(timing.idlePosition(idle: true, keepalive: keepalive, applied: applied, target: LSN(rawValue: 300), now: soon) == nil)
        #expect(timing.idlePosition(idle: true, keepalive: keepalive, applied: applied, target: keepalive, now: soon) == keepalive)
        #expect(timing.idlePosition(idle: true, keepalive: keepalive, applied: applied, target: nil, now: start + .seconds(1)) == keepalive)
    }

    /// While something received could be committed, a round waits only the idle window: when
    /// nothing comes in that long it comes back empty, and an empty round commits the group.
    /// Otherwise (nothing pending, or a source transaction half received) it waits long.
    @Test func aPendingGroupWaitsOnlyTheIdleWindowForMoreInputThenCommits() {
        #expect(SessionTiming.receiveTimeout(pending: true) == SessionTiming.idleWindow)
        #expect(SessionTiming.idleWindow <= .milliseconds(10))
        #expect(SessionTiming.receiveTimeout(pending: false) == .milliseconds(500))
        #expect(SessionTiming.groupEnd(received: 0, limit: 1024) == .commit)
    }

    /// A status update goes out when asked for, when nothing arrived, every second, and for a
    /// new commit at once.
    @Test func statusUpdatesWhenAskedQuietEverySecondOrForANewCommit() {
        var timing = SessionTiming(now: start)
        let none = LSN.zero, commit = LSN(rawValue: 500)
        #expect(timing.statusDue(replyRequested: true, quiet: false, flushed: none, now: start))
        #expect(timing.statusDue(replyRequested: false, quiet: true, flushed: none, now: start))
        #expect(!timing.statusDue(replyRequested: false, quiet: false, flushed: none, now: start + .seconds(1)))
        #expect(timing.statusDue(replyRequested: false, quiet: false, flushed: none, now: start + .seconds(1) + .milliseconds(1)))
        #expect(timing.statusDue(replyRequested: false, quiet: false, flushed: commit, now: start))
        timing.statusSent(flushed: commit, now: start + .milliseconds(21))
        // Reported: the same position waits for the second.
        #expect(!timing.statusDue(replyRequested: false, quiet: false, flushed: commit, now: start + .milliseconds(500)))
    }

    /// The next commit is reported at once even right after an update: the active samples its
    /// replay lag when an update covers a commit, so a throttled report shows up as lag (it
    /// used to wait 20 ms, and then for the next round, which an idle socket held up to 500 ms).
    @Test func aNewCommitIsReportedRightAfterThePreviousUpdate() {
        var timing = SessionTiming(now: start)
        timing.statusSent(flushed: LSN(rawValue: 500), now: start)
        #expect(timing.statusDue(replyRequested: false, quiet: false, flushed: LSN(rawValue: 501), now: start + .milliseconds(1)))
    }
}
