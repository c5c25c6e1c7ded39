import Foundation
import PostgresTypes
@testable import Cutover

/// Plays the executor with no server: answers each action the machine asks for with its
/// success event (or a failure where told), moving the time 10 ms a step, and keeps what
/// happened for the tests to check.
struct CutoverDriver {
    static let cutoverLSN = LSN(rawValue: 0x3000)
    static let maxPause = Duration.seconds(2)

    var machine = CutoverMachine(maxPause: maxPause)
    var time = CutoverTime(instant: ContinuousClock.now, date: Date(timeIntervalSince1970: 1_750_000_000))
    /// Every action issued, by name, in order.
    var names: [String] = []
    /// Every action issued, with the journal's last confirmed record at that moment.
    var issued: [(action: CutoverAction, journal: CutoverJournal?)] = []
    /// The records the journal confirmed, in order.
    var journal: [CutoverJournal] = []
    var outcome: CutoverOutcome?

    /// Runs to the report. `failing` names the action to fail (its first issue) and
    /// `beforeAnswer` may act on the machine first (a tick, say); either may be nil.
    mutating func run(failing: String? = nil, beforeAnswer: ((inout CutoverDriver, CutoverAction) throws -> CutoverAction?)? = nil) throws {
        var next: CutoverAction? = try machine.start()
        var failed = false
        while let action = next {
            record(action)
            if case .report(let result) = action {
                outcome = result
                return
            }
            time = time + .milliseconds(10)
            if let beforeAnswer, let replaced = try beforeAnswer(&self, action) {
                next = replaced
                continue
            }
            if !failed, Self.name(action) == failing {
                failed = true
                next = try machine.handle(.stepFailed(reason: "\(Self.name(action)) broke"), now: time)
                continue
            }
            if case .journal(let written) = action { journal.append(written) }
            next = try machine.handle(Self.success(action), now: time)
        }
    }

    mutating func record(_ action: CutoverAction) {
        names.append(Self.name(action))
        issued.append((action, journal.last))
    }

    static func success(_ action: CutoverAction) -> CutoverEvent {
        switch action {
        case .takeLock: .lockTaken
        case .journal: .journalled
        case .checkPreflight: .preflightPassed
        case .startWatchdog: .watchdogStarted
        case .pause: .pauseAcknowledged
        case .readCutoverLSN: .cutoverLSNRead(cutoverLSN)
        case .waitForProgress(let lsn): .progressReached(lsn)
        case .copySequences: .sequencesCopied
        case .fenceOldActive: .oldActiveFenced
        case .unfencePassive: .promoted
        case .prepareReverse: .reversePrepared
        case .rewriteRouter: .configRewritten
        case .resume: .resumed
        case .unfenceOldActive: .oldActiveUnfenced
        case .report: .tick
        }
    }

    static func name(_ action: CutoverAction) -> String {
        switch action {
        case .takeLock: "take lock"
        case .journal(let record): "journal \(record.state.rawValue)"
        case .checkPreflight: "check preflight"
        case .startWatchdog: "start watchdog"
        case .pause: "pause"
        case .readCutoverLSN: "read LSN"
        case .waitForProgress(let lsn): "wait for \(lsn)"
        case .copySequences: "copy sequences"
        case .fenceOldActive: "fence old active"
        case .unfencePassive: "unfence passive"
        case .prepareReverse: "prepare reverse"
        case .rewriteRouter: "rewrite router"
        case .resume: "resume"
        case .unfenceOldActive: "unfence old active"
        case .report(let outcome): "report \(outcome.ending)"
        }
    }
}

extension CutoverTime {
    static func + (time: CutoverTime, duration: Duration) -> CutoverTime {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return CutoverTime(instant: time.instant + duration, date: time.date.addingTimeInterval(seconds))
    }
}
