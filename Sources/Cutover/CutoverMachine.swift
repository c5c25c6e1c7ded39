import PostgresTypes

/// The cutover's decisions, free of I/O, in the way postgres-nio builds its connection (and
/// `ApplyStateMachine` the applier): an event goes in (`handle`), the one action the executor
/// must take next comes out. The time is given with every event; the machine never reads a clock.
///
/// The rules:
/// - Every state is journalled before the work that reaches it starts, and the machine's own
///   failures are settled by the same rule as a dead process's (`CutoverState.recovery`): what
///   it does after a failure is what the watchdog or `--recover` would do from the journal.
/// - A failure before `promoted` is journalled (or `--max-pause` runs out) rolls back: the old
///   active unfenced, `RESUME`, nothing else changed. In preflight nothing has changed: refused.
/// - From `promoted` on the new active is the truth: a failed step is recorded and the next one
///   taken anyway (repoint, `RELOAD`, `RESUME`), never back to two writable nodes.
/// - A terminal record (`resumed`, `failed`) is written only once `RESUME` succeeded, so the
///   journal never says "settled" while clients may be paused.
/// - An event the action under way cannot produce is an error value; the machine is unchanged.
struct CutoverMachine {
    private enum Course { case forward, refusing, rollingBack, rollingForward }

    let maxPause: Duration
    /// `--reverse`: the reverse stream is prepared after the promotion, before the router moves.
    let reverse: Bool
    /// The last state the journal holds, as far as this machine knows (nil: nothing written).
    private(set) var journalled: CutoverState?
    /// The action under way; nil before `start` and after the report.
    private(set) var awaiting: CutoverAction?
    private var started = false
    private var course = Course.forward
    /// The last state journalled when the first failure came.
    private var reached: CutoverState?
    private var problems: [String] = []
    private var cutoverLSN: LSN?
    private var pauseDeadline: ContinuousClock.Instant?
    /// PAUSE was sent and no RESUME has succeeded since.
    private var clientsMayBePaused = false

    init(maxPause: Duration, reverse: Bool = false) {
        self.maxPause = maxPause
        self.reverse = reverse
    }

    /// The course is a rollback: `.resume` lets clients through to the old active.
    var rollingBack: Bool { course == .rollingBack }

    /// When the executor must send `.tick` if nothing else has happened: the end of
    /// `--max-pause` while it can still roll back; nil otherwise.
    var deadline: ContinuousClock.Instant? {
        course == .forward && journalled?.recovery == .rollBack ? pauseDeadline : nil
    }

    mutating func start() throws(UnexpectedCutoverEvent) -> CutoverAction {
        guard !started else { throw UnexpectedCutoverEvent(event: nil, awaiting: awaiting, state: journalled) }
        started = true
        return issue(.takeLock)
    }

    /// The next action, or nil when the one under way goes on (a tick before the deadline,
    /// progress short of the cutover LSN).
    mutating func handle(_ event: CutoverEvent, now: CutoverTime) throws(UnexpectedCutoverEvent) -> CutoverAction? {
        guard let action = awaiting else { throw UnexpectedCutoverEvent(event: event, awaiting: nil, state: journalled) }
        switch event {
        case .stepFailed(let reason):
            return fail(reason, during: action, now: now)
        case .tick:
            // A journal write is never abandoned: the machine decides once it knows what the
            // journal holds, as the watchdog and --recover will.
            if case .journal = action { return nil }
            return pastDeadline(now) ? fail(maxPauseReason, during: action, now: now) : nil
        default:
            guard event.answers(action) else { throw UnexpectedCutoverEvent(event: event, awaiting: action, state: journalled) }
        }
        if case .journal(let record) = action { journalled = record.state }
        // A failure's own reason comes before the deadline's: it names what held the pause.
        switch event {
        case .preflightFailed(let findings):
            return fail(findings.joined(separator: "; "), during: action, now: now)
        case .pauseTimedOut(let holders):
            return fail("PAUSE did not finish within --max-pause (\(milliseconds(maxPause)) ms), held by: "
                        + holders.joined(separator: ", "), during: action, now: now)
        default:
            if pastDeadline(now) { return fail(maxPauseReason, during: action, now: now) }
        }
        switch event {
        case .cutoverLSNRead(let lsn):
            cutoverLSN = lsn
        case .progressReached(let progress):
            if let cutoverLSN, progress < cutoverLSN { return nil }
        case .resumed:
            clientsMayBePaused = false
        default:
            break
        }
        return issue(next(after: action, now: now))
    }

    // MARK: Deciding

    private mutating func fail(_ reason: String, during action: CutoverAction, now: CutoverTime) -> CutoverAction {
        problems.append(reason)
        if course == .forward {
            let state = journalled ?? .preflight
            reached = state
            switch state.recovery {
            case .nothing:
                course = .refusing
            case .rollBack:
                course = .rollingBack
                // Best effort: if this write fails, the last record still says roll back.
                return issue(.journal(record(.rolledBack, now: now, reason: summary)))
            case .rollForward:
                course = .rollingForward
            }
        }
        // No terminal record while clients may be paused: the watchdog and --recover go by it.
        if case .resume = action, clientsMayBePaused { return issue(.report(outcome)) }
        return issue(next(after: action, now: now))
    }

    /// The action after `action` succeeded, or failed and was passed over.
    private mutating func next(after action: CutoverAction, now: CutoverTime) -> CutoverAction {
        switch course {
        case .refusing:
            // The refusal is journalled if the cutover has a record at all (it holds the lock).
            if case .journal(let written) = action, written.state == .failed { return .report(outcome) }
            return journalled == nil ? .report(outcome) : .journal(record(.failed, now: now, reason: summary))
        case .rollingBack:
            switch action {
            case .journal(let written) where written.state == .failed: return .report(outcome)
            case .resume: return .journal(record(.failed, now: now, reason: summary))
            case .unfenceOldActive: return .resume
            default: return .unfenceOldActive
            }
        case .forward, .rollingForward:
            return nextForward(after: action, now: now)
        }
    }

    private mutating func nextForward(after action: CutoverAction, now: CutoverTime) -> CutoverAction {
        switch action {
        case .takeLock: return .journal(record(.preflight, now: now))
        case .checkPreflight: return .journal(record(.fenced, now: now))
        case .startWatchdog:
            pauseDeadline = now.instant + maxPause
            clientsMayBePaused = true
            return .pause(deadline: now.instant + maxPause)
        case .pause: return .readCutoverLSN
        case .readCutoverLSN: return .journal(record(.caughtUp, now: now))
        case .waitForProgress: return .journal(record(.sequencesSynced, now: now))
        case .copySequences: return .journal(record(.promoted, now: now))
        case .fenceOldActive: return .unfencePassive
        case .unfencePassive: return reverse ? .prepareReverse : .journal(record(.repointed, now: now))
        case .prepareReverse: return .journal(record(.repointed, now: now))
        case .rewriteRouter: return .resume
        case .resume:
            return problems.isEmpty ? .journal(record(.resumed, now: now)) : .journal(record(.failed, now: now, reason: summary))
        case .journal(let written):
            switch written.state {
            case .preflight: return .checkPreflight
            case .fenced: return .startWatchdog
            // The caught-up record is written only once the LSN is read; without one, read it.
            case .caughtUp: return written.cutoverLSN.map(CutoverAction.waitForProgress) ?? .readCutoverLSN
            case .sequencesSynced: return .copySequences
            case .promoted: return .fenceOldActive
            case .repointed: return .rewriteRouter
            case .resumed, .failed, .rolledBack: return .report(outcome)
            }
        case .unfenceOldActive, .report:
            return .report(outcome)  // not on this course
        }
    }

    private mutating func issue(_ action: CutoverAction) -> CutoverAction {
        if case .report = action { awaiting = nil } else { awaiting = action }
        return action
    }

    // MARK: Values

    private func pastDeadline(_ now: CutoverTime) -> Bool {
        deadline.map { now.instant >= $0 } ?? false
    }

    private var maxPauseReason: String {
        "--max-pause (\(milliseconds(maxPause)) ms) ran out in state \((journalled ?? .preflight).rawValue)"
    }

    private var summary: String {
        "from \((reached ?? .preflight).rawValue): " + problems.joined(separator: "; then ")
    }

    private func record(_ state: CutoverState, now: CutoverTime, reason: String? = nil) -> CutoverJournal {
        CutoverJournal(state: state, time: now.date, cutoverLSN: cutoverLSN, reason: reason)
    }

    private var outcome: CutoverOutcome {
        let ending: CutoverOutcome.Ending = switch course {
        case .forward: .done
        case .refusing: .refused
        case .rollingBack: .rolledBack
        case .rollingForward: .rolledForward
        }
        return CutoverOutcome(ending: ending, reached: reached ?? journalled ?? .preflight, cutoverLSN: cutoverLSN,
                              problems: problems, clientsMayBePaused: clientsMayBePaused)
    }
}

private func milliseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
}
