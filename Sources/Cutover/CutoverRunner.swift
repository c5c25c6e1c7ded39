import Foundation
import Logging
import OperatorErrors
import PostgresClient
import PostgresTypes
import Routing

/// `continuity cutover`: the executor of `CutoverMachine`. It does the one action the machine
/// asks for, tells it how that went, and races each action against the machine's deadline
/// (`--max-pause`) while a rollback is still possible. All decisions are the machine's.
public enum CutoverRunner {
    /// Runs a cutover to its end; the report says how it ended, and `error` is set unless it completed.
    public static func run(_ options: CutoverOptions, follow: @escaping Follow, logger: Logger)
        async throws -> (report: CutoverReport, error: (any OperatorError)?) {
        let router = try options.makeRouter()
        let execution = Execution(options: options, router: router, follow: follow, logger: logger)
        let outcome: CutoverOutcome
        do {
            outcome = try await execution.drive()
        } catch {
            await execution.stopFollowing()
            await execution.nodes?.close()
            throw error
        }
        // Before the slot is dropped: the cutover's own stream holds it.
        await execution.stopFollowing()
        var problems = outcome.problems
        var slotDropped = false
        if outcome.ending == .done, let nodes = await execution.nodes {
            do {
                try await nodes.dropForwardSlot()
                slotDropped = true
            } catch {
                problems.append("the forward slot was not dropped: \((error as? any OperatorError)?.problem ?? "\(error)")")
            }
        }
        // The dead-man's switch, settling while this cutover was slow, drops a reverse slot it
        // cannot vouch for, possibly after this cutover's own check passed.
        if let reverseSlot = options.reverseSlot, await execution.reverseStart != nil, let nodes = await execution.nodes,
           (try? await CutoverNodes.hasSlot(reverseSlot, on: nodes.passive)) == false {
            await execution.forgetReverseStart()
            problems.append("reverse slot \(reverseSlot) was dropped by the dead-man's switch, which let clients through while it was made: "
                            + "prepare the way back by hand: " + CutoverSettlement.wayBack)
        }
        await execution.nodes?.close()
        let report = await execution.report(outcome, problems: problems, slotDropped: slotDropped)
        return (report, outcome.error)
    }

    /// `cutover --recover`: settles a half-done cutover from its journal.
    public static func recover(_ options: CutoverOptions, logger: Logger) async throws -> CutoverSettlementReport {
        // A cutover still running holds the locks: settling under it would undo what it does.
        // A node that does not answer cannot hold them for anyone either.
        let nodes = try? await CutoverNodes.connect(source: options.source, target: options.target, slot: options.slot)
        if let nodes {
            do {
                try await nodes.takeLocks()
            } catch {
                await nodes.close()
                throw error
            }
        }
        do {
            let settlement = try await CutoverSettlement.settle(
                source: options.source, target: options.target, slot: options.slot, reverseSlot: options.reverseSlot, router: try options.makeRouter(),
                store: CutoverJournalStore(path: options.journalPath, slot: options.slot), by: "cutover --recover", logger: logger)
            await nodes?.close()
            return CutoverSettlementReport(settlement)
        } catch {
            await nodes?.close()
            throw error
        }
    }

    /// `cutover status`: the journal, from the file or else the passive's table.
    public static func journal(path: String, slot: String, target: ConnectionString?) async throws -> [CutoverJournal] {
        let store = CutoverJournalStore(path: path, slot: slot)
        let file = try store.readFile()
        guard file.isEmpty, let target else { return file }
        return try await Connection.with(target) { try await store.readTable(on: $0) }
    }
}

/// What `--recover` found and did.
public struct CutoverSettlementReport: Codable, Sendable {
    public let found: String
    public let recovery: String
    public let done: [String]
    public let problems: [String]

    init(_ settlement: CutoverSettlement) {
        found = settlement.found?.description ?? "no journal"
        recovery = settlement.recovery
        done = settlement.done
        problems = settlement.problems
    }

    public var settled: Bool { problems.isEmpty }

    public var text: String {
        (["journal's last record: \(found)", "to do: \(recovery)"] + done.map { "  done: \($0)" } + problems.map { "  problem: \($0)" })
            .joined(separator: "\n")
    }
}

/// One cutover's run: the machine, the sessions, and what the report needs.
private actor Execution {
    let options: CutoverOptions
    let router: any Router
    let follow: Follow
    let logger: Logger
    let store: CutoverJournalStore
    var nodes: CutoverNodes?
    var machine: CutoverMachine
    var records: [CutoverJournal] = []
    var lagAtFence: Double?
    var sequences: Int?
    var pauseSent: ContinuousClock.Instant?
    var pause: Duration?
    var reverseStart: LSN?
    func forgetReverseStart() { reverseStart = nil }
    /// What a rollback undid, as it happened.
    var undone: [String] = []
    /// The stream the cutover runs itself when no `continuity stream` follows the slot.
    var follower: Task<Void, Never>?
    /// Set once that stream has ended: nil inside if it ended without an error.
    var followerEnd: (any Error)??

    init(options: CutoverOptions, router: any Router, follow: @escaping Follow, logger: Logger) {
        self.options = options
        self.router = router
        self.follow = follow
        self.logger = logger
        store = CutoverJournalStore(path: options.journalPath, slot: options.slot)
        machine = CutoverMachine(maxPause: options.maxPause, reverse: options.reverseSlot != nil)
    }

    func drive() async throws -> CutoverOutcome {
        var next: CutoverAction? = try machine.start()
        while let action = next {
            if case .report(let outcome) = action { return outcome }
            let event = await perform(action)
            next = try machine.handle(event, now: CutoverTime(instant: .now, date: Date())) ?? action
        }
        throw Failure("the cutover's state machine stopped without a report: a defect in continuity",
                      fix: "run `continuity cutover --recover` with the same options")
    }

    /// Does the action, racing it against the machine's deadline (journal writes excepted:
    /// the machine decides once it knows what the journal holds).
    /// An abandoned action is cancelled, and the tick is handed over once it has stopped. A
    /// statement it waits in (a lock on the passive, say) ignores task cancellation, so it is
    /// cancelled on the server too, again every half second until the action has stopped:
    /// the rollback runs on the same sessions.
    private func perform(_ action: CutoverAction) async -> CutoverEvent {
        let deadline: ContinuousClock.Instant?
        if case .journal = action { deadline = nil } else { deadline = machine.deadline }
        guard let deadline else { return await attempt(action) }
        return await withTaskGroup(of: Racer.self) { group in
            group.addTask { .answered(await self.attempt(action)) }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return .timer
            }
            if case .answered(let event) = await group.next() {
                group.cancelAll()
                return event
            }
            group.cancelAll()
            while true {
                await nodes?.cancelStatements()
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(500))
                    return .timer
                }
                if case .answered = await group.next() { break }
            }
            group.cancelAll()
            return .tick
        }
    }

    private enum Racer { case answered(CutoverEvent), timer }

    private func attempt(_ action: CutoverAction) async -> CutoverEvent {
        do {
            return try await act(action)
        } catch let held as PauseHeld {
            return .pauseTimedOut(heldBy: held.holders)
        } catch {
            let reason = (error as? any OperatorError)?.problem ?? "\(error)"
            logger.error("\(describe(action)) failed: \(reason)")
            return .stepFailed(reason: reason)
        }
    }

    private func act(_ action: CutoverAction) async throws -> CutoverEvent {
        switch action {
        case .takeLock:
            let nodes = try await CutoverNodes.connect(source: options.source, target: options.target, slot: options.slot)
            self.nodes = nodes
            try await nodes.takeLocks()
            if let last = try await store.read(passive: nodes.passive).last, last.state.recovery != .nothing {
                throw Refusal("the cutover journal \(options.journalPath) ends in state \(last.state.rawValue): an earlier cutover did not finish",
                              fix: "run `continuity cutover --recover` with the same options first")
            }
            return .lockTaken
        case .journal(let record):
            if let warning = try await store.append(record, passive: nodes?.passive) { logger.warning("\(warning)") }
            records.append(record)
            logger.info("journalled \(record.state.rawValue)")
            return .journalled
        case .checkPreflight:
            return try await preflight()
        case .startWatchdog:
            // Left to itself: it ends when it finds a terminal record, or after settling.
            _ = try CutoverWatchdog.start(options)
            return .watchdogStarted
        case .pause(let deadline):
            pauseSent = .now
            // Without a pooler the fence is the pause. With one, the fence follows the router's
            // pause, so a client that bypasses the router cannot commit after the cutover LSN
            // either. Put up from the cutover's own session, which it spares (the none router's
            // own fence would end this session too); a rollback takes it down.
            if case .none = options.router {} else { try await router.pause(deadline: deadline) }
            try await requireNodes().fenceOldActive()
            return .pauseAcknowledged
        case .readCutoverLSN:
            return .cutoverLSNRead(try await requireNodes().emitMessage("continuity.cutover"))
        case .waitForProgress(let lsn):
            return .progressReached(try await waitForProgress(lsn))
        case .copySequences:
            sequences = try await requireNodes().copySequences()
            return .sequencesCopied
        case .fenceOldActive:
            try await requireNodes().fenceOldActive()
            return .oldActiveFenced
        case .unfencePassive:
            do {
                try await requireNodes().promotePassive()
            } catch {
                // Past the point of no return: a stream left unmarked would keep setting the new
                // active's sequences back. One more try, on a session of its own.
                logger.warning("promoting the passive failed (\((error as? any OperatorError)?.problem ?? "\(error)")); trying again on a new session")
                let slot = options.slot
                try await Connection.with(options.target.overridingReadOnlyFence()) { try await CutoverNodes.promote($0, slot: slot) }
            }
            return .promoted
        case .prepareReverse:
            guard let reverseSlot = options.reverseSlot else { return .reversePrepared }
            let nodes = try requireNodes()
            let start = try await nodes.prepareReverse(slot: reverseSlot, publication: options.publication, passiveDSN: options.target)
            // Made while clients were paused, unless the dead-man's switch resumed them meanwhile
            // (it acts at --max-pause + 1 s, and slot creation waits for transactions): then the
            // slot may start after their first writes, and a stream back would miss them.
            guard try store.readFile().last?.state == .promoted else {
                try? await CutoverNodes.dropSlot(reverseSlot, on: nodes.passive)
                throw Failure("clients were resumed before reverse slot \(reverseSlot) was made, so it could miss their first writes: it was dropped",
                              fix: "prepare the way back by hand: " + CutoverSettlement.wayBack)
            }
            reverseStart = start
            return .reversePrepared
        case .rewriteRouter:
            try await router.repoint()
            return .configRewritten
        case .resume:
            if machine.rollingBack {
                try await router.rollBack()
                undone.append("clients let through to the old active (\(router.description))")
            } else {
                try await router.resume()
            }
            if let pauseSent { pause = .now - pauseSent }
            return .resumed
        case .unfenceOldActive:
            try await requireNodes().unfenceOldActive()
            undone.append("the old active unfenced")
            return .oldActiveUnfenced
        case .report:
            return .tick
        }
    }

    /// Without a stream following the slot, the cutover starts one of its own and waits, outside
    /// the pause, until it has applied everything committed so far. From then on both cases are
    /// alike: the pause waits only for what came meanwhile, on a stream already connected
    /// (starting one, with its checks and sessions, takes seconds on a loaded machine).
    private func preflight() async throws -> CutoverEvent {
        let nodes = try requireNodes()
        var ownLag: Duration?
        if try await nodes.streamFollowing() == nil, try await nodes.progress() != nil {
            let now = try await nodes.emitMessage("continuity.lag-probe")
            logger.info("no stream follows slot \(options.slot): following it here; applying up to \(now) before the pause")
            let follow = self.follow
            follower = Task {
                do {
                    try await follow()
                    self.followerEnded(nil)
                } catch {
                    self.followerEnded(error)
                }
            }
            _ = try await waitForProgress(now, pollingEvery: .milliseconds(50))
            // The slot's replay_lag still tells how old that backlog was; how long a second
            // probe takes to arrive is the lag the pause will wait for.
            let again = try await nodes.emitMessage("continuity.lag-probe"), started = ContinuousClock.now
            _ = try await waitForProgress(again, pollingEvery: .milliseconds(50))
            ownLag = .now - started
        }
        var facts = try await CutoverFacts.read(nodes, router: router, reverseSlot: options.reverseSlot)
        if let ownLag { facts.streamLagSeconds = Double(ownLag.components.seconds) + Double(ownLag.components.attoseconds) / 1e18 }
        lagAtFence = facts.streamLagSeconds
        let findings = facts.findings(slot: options.slot, maxLag: options.maxLag, reverseSlot: options.reverseSlot)
        return findings.isEmpty ? .preflightPassed : .preflightFailed(findings: findings)
    }

    private func followerEnded(_ error: (any Error)?) { followerEnd = .some(error) }

    /// The passive's progress once it reaches `lsn`, applied by a running stream: a
    /// `continuity stream`, or the cutover's own. Within the pause it is polled every 2 ms;
    /// before it (a preflight catch-up that may take long) less often, saying how far it is.
    private func waitForProgress(_ lsn: LSN, pollingEvery interval: Duration = .milliseconds(2)) async throws -> LSN {
        let nodes = try requireNodes()
        var said = ContinuousClock.now
        while true {
            let progress = try await nodes.progress() ?? .zero
            if progress >= lsn { return progress }
            if ContinuousClock.now - said > .seconds(10) {
                logger.info("catching up: the passive is at \(progress), \((lsn.rawValue - progress.rawValue) >> 20) MiB short of \(lsn)")
                said = .now
            }
            // The cutover's own stream ended short of it: a failure of the step, unless a
            // `continuity stream` took the slot over (it started meanwhile and won it).
            if let ended = followerEnd, try await nodes.streamFollowing() == nil {
                throw ended.map { $0 } ?? Failure("the cutover's stream of slot \(options.slot) ended before the passive reached \(lsn)",
                                                  fix: "see the log above, then run cutover again")
            }
            try await Task.sleep(for: interval)  // a poll of the row; the deadline, or the operator, bounds it
        }
    }

    /// Ends the cutover's own stream, if it runs one: after a promotion it has stopped by itself
    /// or stops at its next record, which the promoted mark refuses.
    func stopFollowing() async {
        guard let follower else { return }
        follower.cancel()
        await follower.value
        self.follower = nil
    }

    private func requireNodes() throws -> CutoverNodes {
        guard let nodes else { throw Failure("the cutover has no sessions to its nodes", fix: "run it again") }
        return nodes
    }

    private func describe(_ action: CutoverAction) -> String {
        "\(action)".split(separator: "(").first.map(String.init) ?? "a step"
    }

    func report(_ outcome: CutoverOutcome, problems: [String], slotDropped: Bool) -> CutoverReport {
        let states = records.indices.map { index in
            let record = records[index]
            let next = index + 1 < records.count ? records[index + 1].time : nil
            return CutoverReport.State(state: record.state.rawValue, startedAt: record.timeText,
                                       milliseconds: next.map { Int64((($0.timeIntervalSince(record.time)) * 1000).rounded()) })
        }
        let ending = switch outcome.ending {
        case .done: "done"
        case .refused: "refused"
        case .rolledBack: "rolled-back"
        case .rolledForward: "rolled-forward"
        }
        var clientsGoTo: String?
        if case .none = options.router, outcome.ending != .refused, outcome.ending != .rolledBack { clientsGoTo = options.target.shortDescription }
        return CutoverReport(
            ending: ending, states: states, router: router.description, lagAtFenceSeconds: lagAtFence,
            cutoverLSN: outcome.cutoverLSN?.description, sequencesSynced: sequences,
            pauseMilliseconds: pause.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 },
            problems: problems, rolledBack: undone, reverseSlot: options.reverseSlot, reverseStartLSN: reverseStart?.description,
            clientsGoTo: clientsGoTo, forwardSlotDropped: slotDropped, journal: options.journalPath)
    }
}
