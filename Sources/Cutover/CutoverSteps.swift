import Foundation
import PostgresTypes

/// A moment as the executor read it: the monotonic instant bounds the pause, the wall-clock
/// date stamps journal records. The machine is given it with every call and never reads a clock.
struct CutoverTime: Sendable {
    var instant: ContinuousClock.Instant
    var date: Date
}

/// The next thing the executor must do. It does one at a time and reports how it went as an
/// event; an action returned while another is under way replaces it (the executor abandons
/// the old one: the deadline passed).
enum CutoverAction: Equatable, Sendable {
    /// The advisory lock on both nodes (answer: `lockTaken`).
    case takeLock
    /// Append the record to the journal, before anything it announces is done (`journalled`).
    case journal(CutoverJournal)
    /// Lag, tables and columns, sequences, the router's console and config line
    /// (`preflightPassed` or `preflightFailed`).
    case checkPreflight
    /// The dead-man's switch, a separate process that resumes clients from the journal if this
    /// one dies (`watchdogStarted`).
    case startWatchdog
    /// The router's pause (PgBouncer `PAUSE`; the old active's read-only fence without a
    /// router), given up at the deadline (`pauseAcknowledged` or `pauseTimedOut`).
    case pause(deadline: ContinuousClock.Instant)
    /// The active's `pg_current_wal_insert_lsn()`, after the pause (`cutoverLSNRead`).
    case readCutoverLSN
    /// The passive's progress reaching the LSN (`progressReached`).
    case waitForProgress(LSN)
    /// Every sequence's value, from the fenced active to the passive (`sequencesCopied`).
    case copySequences
    /// The old active's database `default_transaction_read_only`, its sessions ended (`oldActiveFenced`).
    case fenceOldActive
    /// The passive writable (`promoted`).
    case unfencePassive
    /// `--reverse`: a slot and publication on the new active, and on the old one a progress row
    /// at the slot's consistent point, so a stream back starts exactly here (`reversePrepared`).
    case prepareReverse
    /// The router's config pointed at the new active (`configRewritten`).
    case rewriteRouter
    /// The router's `RESUME` (`resumed`).
    case resume
    /// Rolling back: the old active writable again (`oldActiveUnfenced`).
    case unfenceOldActive
    /// The end: print the outcome. No answer.
    case report(CutoverOutcome)
}

/// How an action went, or the clock passing.
enum CutoverEvent: Equatable, Sendable {
    case lockTaken
    case journalled
    case preflightPassed
    case preflightFailed(findings: [String])
    case watchdogStarted
    case pauseAcknowledged
    /// PAUSE was still waiting at its deadline, for these sessions (idle in transaction, say).
    case pauseTimedOut(heldBy: [String])
    case cutoverLSNRead(LSN)
    /// The passive's progress; below the cutover LSN the wait goes on.
    case progressReached(LSN)
    case sequencesCopied
    case oldActiveFenced
    case promoted
    case reversePrepared
    case configRewritten
    case resumed
    case oldActiveUnfenced
    /// The action under way failed.
    case stepFailed(reason: String)
    /// Nothing happened, but time passed: the executor calls with this at `deadline`.
    case tick

    /// Whether this event is the answer to `action` (not counting `stepFailed` and `tick`).
    func answers(_ action: CutoverAction) -> Bool {
        switch (action, self) {
        case (.takeLock, .lockTaken), (.journal, .journalled), (.checkPreflight, .preflightPassed),
             (.checkPreflight, .preflightFailed), (.startWatchdog, .watchdogStarted), (.pause, .pauseAcknowledged),
             (.pause, .pauseTimedOut), (.readCutoverLSN, .cutoverLSNRead), (.waitForProgress, .progressReached),
             (.copySequences, .sequencesCopied), (.fenceOldActive, .oldActiveFenced), (.unfencePassive, .promoted), (.prepareReverse, .reversePrepared),
             (.rewriteRouter, .configRewritten), (.resume, .resumed),
             (.unfenceOldActive, .oldActiveUnfenced):
            return true
        default:
            return false
        }
    }
}
