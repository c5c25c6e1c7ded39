import OperatorErrors
import PostgresTypes

/// How a cutover ended, for the report and the exit status.
struct CutoverOutcome: Equatable, Sendable {
    enum Ending: Equatable, Sendable {
        /// The new active takes writes; clients resumed on it.
        case done
        /// Stopped in preflight: nothing was changed, clients never paused.
        case refused
        /// Failed before `promoted`: the old active is the active again.
        case rolledBack
        /// Failed at or after `promoted`: the new active is the active, something did not finish.
        case rolledForward
    }

    let ending: Ending
    /// The last state journalled when the first thing went wrong (at the end, if nothing did).
    let reached: CutoverState
    let cutoverLSN: LSN?
    /// What went wrong: the cause first, then any step of the rollback or roll-forward that failed too.
    let problems: [String]
    /// The final `RESUME` failed: clients stay paused until the dead-man's switch or `--recover`.
    let clientsMayBePaused: Bool

    /// What the operator sees, nil when it worked.
    var error: CutoverFailure? {
        ending == .done && problems.isEmpty && !clientsMayBePaused ? nil : CutoverFailure(outcome: self)
    }
}

/// A cutover that did not complete: exit 3 when refused in preflight, 1 otherwise.
struct CutoverFailure: OperatorError, Equatable {
    let outcome: CutoverOutcome

    var status: ExitStatus { outcome.ending == .refused ? .refused : .failed }

    var problem: String {
        let why = outcome.problems.joined(separator: "; then ")
        switch outcome.ending {
        case .refused: return "cutover refused in preflight, nothing was changed: \(why)"
        case .rolledBack: return "cutover rolled back from state \(outcome.reached.rawValue): \(why)"
        case .rolledForward, .done: return "cutover rolled forward from state \(outcome.reached.rawValue): \(why)"
        }
    }

    var fix: String? {
        if outcome.clientsMayBePaused {
            return "clients may still be paused: run `continuity cutover --recover` with the same options now"
                + " (the dead-man's switch resumes them after --max-pause + 1 s)"
        }
        switch outcome.ending {
        case .refused: return "fix what is named and run cutover again"
        case .rolledBack: return "the old active takes writes again, nothing else changed; fix the cause and run cutover again"
        case .rolledForward, .done: return "the new active takes writes; finish what failed by hand (see `continuity cutover status`)"
        }
    }
}

/// An event the action under way cannot produce (or a second start): a defect in the
/// executor, reported as an error and never a trap. The machine is left as it was.
struct UnexpectedCutoverEvent: OperatorError, Equatable {
    /// nil: `start` called twice.
    let event: CutoverEvent?
    let awaiting: CutoverAction?
    let state: CutoverState?

    var status: ExitStatus { .failed }

    var problem: String {
        let what = event.map { "event \($0)" } ?? "a second start"
        let waiting = awaiting.map { "while awaiting \($0)" } ?? "with no action under way"
        return "cutover got \(what) \(waiting) in state \(state?.rawValue ?? "none"): a defect in continuity"
    }

    var fix: String? { "run `continuity cutover --recover` with the same options to settle the cutover from its journal" }
}
