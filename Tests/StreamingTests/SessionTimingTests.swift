import PostgresTypes
import PostgresClient
@testable import Streaming
import Testing

/// The session's timing rules with no server and no waiting: every call is given the time.
@Suite struct SessionTimingTests {
    let start = ContinuousClock.now

    @Test func theGroupEndsAtOnceWhenNothingIsWaitingAndAfter50msWhenTheRoundWasShort() {
        #expect(SessionTiming.groupEnd(received: 0, limit: 1024) == .commit)
        #expect(SessionTiming.groupEnd(received: 1, limit: 1024) == .commitIfOpenFor(.milliseconds(50)))
        #expect(SessionTiming.groupEnd(received: 1023, limit: 1024) == .commitIfOpenFor(.milliseconds(50)))
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

    /// A status update goes out when asked for, when nothing arrived, every second, and for a
    /// new commit at most every 20 ms.
    @Test func statusUpdatesWhenAskedQuietEverySecondOrForANewCommit() {
        var timing = SessionTiming(now: start)
        let none = LSN.zero, commit = LSN(rawValue: 500)
        #expect(timing.statusDue(replyRequested: true, quiet: false, flushed: none, now: start))
        #expect(timing.statusDue(replyRequested: false, quiet: true, flushed: none, now: start))
        #expect(!timing.statusDue(replyRequested: false, quiet: false, flushed: none, now: start + .seconds(1)))
        #expect(timing.statusDue(replyRequested: false, quiet: false, flushed: none, now: start + .seconds(1) + .milliseconds(1)))
        #expect(!timing.statusDue(replyRequested: false, quiet: false, flushed: commit, now: start + .milliseconds(20)))
        #expect(timing.statusDue(replyRequested: false, quiet: false, flushed: commit, now: start + .milliseconds(21)))
        timing.statusSent(flushed: commit, now: start + .milliseconds(21))
        // Reported: the same position waits for the second.
        #expect(!timing.statusDue(replyRequested: false, quiet: false, flushed: commit, now: start + .milliseconds(500)))
        #expect(timing.statusDue(replyRequested: false, quiet: false, flushed: LSN(rawValue: 501), now: start + .milliseconds(42)))
    }
}
