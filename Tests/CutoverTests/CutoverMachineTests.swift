import OperatorErrors
import PostgresTypes
@testable import Cutover
import Testing

/// The cutover's rules with no server and no waiting: the driver answers each action, failures
/// and the clock are injected event by event, and the actions out are checked in order.
@Suite struct CutoverMachineTests {
    static let happyPath = [
        "take lock", "journal preflight", "check preflight", "journal fenced", "start watchdog", "pause", "read LSN",
        "journal caught-up", "wait for 0/3000", "journal sequences-synced", "copy sequences", "journal promoted",
        "fence old active", "unfence passive", "journal repointed", "rewrite router", "resume",
        "journal resumed", "report done",
    ]
    static let rollBack = ["journal rolled-back", "unfence old active", "resume", "journal failed", "report rolledBack"]

    @Test func theHappyPathTakesEveryStepInOrderAndJournalsEachStateFirst() throws {
        var driver = CutoverDriver()
        try driver.run()
        #expect(driver.names == Self.happyPath)
        #expect(driver.journal.map(\.state) == [.preflight, .fenced, .caughtUp, .sequencesSynced, .promoted, .repointed, .resumed])
        #expect(driver.journal.map(\.cutoverLSN) == [nil, nil] + Array(repeating: CutoverDriver.cutoverLSN, count: 5))
        let outcome = try #require(driver.outcome)
        #expect(outcome == CutoverOutcome(ending: .done, reached: .resumed, cutoverLSN: CutoverDriver.cutoverLSN,
                                          problems: [], clientsMayBePaused: false))
        #expect(outcome.error == nil)
        // Each action that changes something is issued with its own state the last record.
        let stateWhenIssued = Dictionary(driver.issued.map { (CutoverDriver.name($0.action), $0.journal?.state) }) { first, _ in first }
        let expected: [String: CutoverState] = [
            "pause": .fenced, "wait for 0/3000": .caughtUp, "copy sequences": .sequencesSynced, "fence old active": .promoted,
            "unfence passive": .promoted, "rewrite router": .repointed, "resume": .repointed,
        ]
        for (action, state) in expected { #expect(stateWhenIssued[action] == state, "\(action)") }
    }

    /// A failure of each step of the happy path: what follows, where it ended, why.
    struct Failure: CustomTestStringConvertible, Sendable {
        let failing: String
        let reached: CutoverState
        let then: [String]
        var clientsMayBePaused = false
        var testDescription: String { failing }
    }

    static let rollForward = ["journal repointed", "rewrite router", "resume", "journal failed", "report rolledForward"]
    static let failures: [Failure] = [
        // Nothing changed yet: refused, journalled once there is a journal.
        Failure(failing: "take lock", reached: .preflight, then: ["report refused"]),
        Failure(failing: "journal preflight", reached: .preflight, then: ["report refused"]),
        Failure(failing: "check preflight", reached: .preflight, then: ["journal failed", "report refused"]),
        Failure(failing: "journal fenced", reached: .preflight, then: ["journal failed", "report refused"]),
        // Before promoted: roll back.
        Failure(failing: "start watchdog", reached: .fenced, then: rollBack),
        Failure(failing: "pause", reached: .fenced, then: rollBack),
        Failure(failing: "read LSN", reached: .fenced, then: rollBack),
        Failure(failing: "journal caught-up", reached: .fenced, then: rollBack),
        Failure(failing: "wait for 0/3000", reached: .caughtUp, then: rollBack),
        Failure(failing: "journal sequences-synced", reached: .caughtUp, then: rollBack),
        Failure(failing: "copy sequences", reached: .sequencesSynced, then: rollBack),
        Failure(failing: "journal promoted", reached: .sequencesSynced, then: rollBack),
        // From promoted on: every remaining step taken anyway, RESUME above all.
        Failure(failing: "fence old active", reached: .promoted, then: ["unfence passive"] + rollForward),
        Failure(failing: "unfence passive", reached: .promoted, then: rollForward),
        Failure(failing: "journal repointed", reached: .promoted, then: Array(rollForward.dropFirst())),
        Failure(failing: "rewrite router", reached: .repointed, then: Array(rollForward.dropFirst(2))),
        // RESUME itself failed: no terminal record, so the watchdog and --recover still act.
        Failure(failing: "resume", reached: .repointed, then: ["report rolledForward"], clientsMayBePaused: true),
        Failure(failing: "journal resumed", reached: .repointed, then: ["report rolledForward"]),
    ]

    @Test(arguments: failures) func aFailureAtEachStepRollsBackBeforePromotedAndForwardAfter(_ failure: Failure) throws {
        #expect(Self.failures.map(\.failing) == Array(Self.happyPath.dropLast()), "every step is covered")
        var driver = CutoverDriver()
        try driver.run(failing: failure.failing)
        let failedAt = try #require(driver.names.firstIndex(of: failure.failing))
        #expect(Array(driver.names[..<failedAt]) == Array(Self.happyPath[..<failedAt]))
        #expect(Array(driver.names[(failedAt + 1)...]) == failure.then)
        let outcome = try #require(driver.outcome)
        #expect(outcome.reached == failure.reached)
        #expect(outcome.problems == ["\(failure.failing) broke"])
        #expect(outcome.clientsMayBePaused == failure.clientsMayBePaused)
        // The machine settles its own failure exactly as --recover would from that record.
        let ending: CutoverOutcome.Ending = switch failure.reached.recovery {
        case .nothing: .refused
        case .rollBack: .rolledBack
        case .rollForward: .rolledForward
        }
        #expect(outcome.ending == ending)
        let error = try #require(outcome.error)
        #expect(error.status == (ending == .refused ? .refused : .failed))
        #expect(error.problem.contains("\(failure.failing) broke"))
        if let last = driver.journal.last, last.state == .failed || last.state == .rolledBack {
            #expect(last.reason == "from \(failure.reached.rawValue): \(failure.failing) broke")
        }
        // A rollback changes nothing else: the new active is never promoted or routed to.
        if ending == .rolledBack {
            #expect(Set(driver.names).isDisjoint(with: ["fence old active", "unfence passive", "rewrite router"]))
        }
        // Never back to the old active once promoted.
        if ending == .rolledForward { #expect(!driver.names.contains("unfence old active")) }
    }

    /// A rollback keeps going when one of its own steps fails; a failed RESUME ends it unsettled.
    @Test func aRollbackStepThatFailsDoesNotStopTheRest() throws {
        var driver = CutoverDriver()
        var failing: Set<String> = ["wait for 0/3000", "journal rolled-back", "unfence old active"]
        try driver.run(beforeAnswer: { driver, action in
            let name = CutoverDriver.name(action)
            guard failing.remove(name) != nil else { return nil }
            return try driver.machine.handle(.stepFailed(reason: "\(name) broke"), now: driver.time)
        })
        #expect(driver.names.suffix(5) == ["journal rolled-back", "unfence old active", "resume", "journal failed", "report rolledBack"])
        #expect(driver.outcome?.problems == ["wait for 0/3000 broke", "journal rolled-back broke", "unfence old active broke"])
        #expect(driver.journal.last?.state == .failed)

        var unsettled = CutoverDriver()
        var failingResume: Set<String> = ["copy sequences", "resume"]
        try unsettled.run(beforeAnswer: { driver, action in
            let name = CutoverDriver.name(action)
            guard failingResume.remove(name) != nil else { return nil }
            return try driver.machine.handle(.stepFailed(reason: "\(name) broke"), now: driver.time)
        })
        #expect(unsettled.names.suffix(4) == ["journal rolled-back", "unfence old active", "resume", "report rolledBack"])
        #expect(unsettled.journal.last?.state == .rolledBack, "the journal still says: roll back")
        #expect(unsettled.outcome?.clientsMayBePaused == true)
        #expect(unsettled.outcome?.error?.fix?.contains("--recover") == true)
    }

    /// `--reverse` adds one step after the promotion; its failure is passed over like any
    /// other after `promoted`, never back to the old active.
    @Test func theReverseStreamIsPreparedAfterPromotionAndItsFailureRollsForward() throws {
        var driver = CutoverDriver(machine: CutoverMachine(maxPause: CutoverDriver.maxPause, reverse: true))
        try driver.run()
        var expected = Self.happyPath
        expected.insert("prepare reverse", at: expected.firstIndex(of: "unfence passive")! + 1)
        #expect(driver.names == expected)

        var failing = CutoverDriver(machine: CutoverMachine(maxPause: CutoverDriver.maxPause, reverse: true))
        try failing.run(failing: "prepare reverse")
        #expect(Array(failing.names.drop { $0 != "prepare reverse" }.dropFirst()) == Self.rollForward)
        #expect(failing.outcome?.ending == .rolledForward)
        #expect(failing.outcome?.problems == ["prepare reverse broke"])
    }
}
