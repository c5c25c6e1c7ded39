import PostgresTypes
@testable import Cutover
import Testing

/// Events out of place are error values that leave the machine as it was; progress short of
/// the cutover LSN keeps the wait going.
@Suite struct CutoverEventTests {
    static let everyEvent: [CutoverEvent] = [
        .lockTaken, .journalled, .preflightPassed, .preflightFailed(findings: ["x"]), .watchdogStarted, .pauseAcknowledged,
        .pauseTimedOut(heldBy: ["x"]), .cutoverLSNRead(CutoverDriver.cutoverLSN), .progressReached(CutoverDriver.cutoverLSN),
        .sequencesCopied, .oldActiveFenced, .promoted, .configRewritten, .resumed, .oldActiveUnfenced,
    ]

    @Test func everyEventThatDoesNotAnswerTheActionUnderWayIsAnErrorAndChangesNothing() throws {
        var driver = CutoverDriver()
        var rejected = 0
        try driver.run(beforeAnswer: { driver, action in
            for event in Self.everyEvent where !event.answers(action) {
                let before = driver.machine
                #expect(throws: UnexpectedCutoverEvent(event: event, awaiting: action, state: driver.machine.journalled)) {
                    try driver.machine.handle(event, now: driver.time)
                }
                #expect(driver.machine.awaiting == before.awaiting && driver.machine.journalled == before.journalled)
                rejected += 1
            }
            return nil
        })
        // Unchanged indeed: the run goes on to the same end.
        #expect(driver.names == CutoverMachineTests.happyPath)
        #expect(rejected == 18 * 15 - 20, "every event but the 20 answers to the 18 actions")

        for event in Self.everyEvent + [.tick, .stepFailed(reason: "late")] {
            #expect(throws: UnexpectedCutoverEvent.self, "after the report") { try driver.machine.handle(event, now: driver.time) }
        }
        #expect(throws: UnexpectedCutoverEvent.self) { try driver.machine.start() }
        var fresh = CutoverMachine(maxPause: .seconds(1))
        #expect(throws: UnexpectedCutoverEvent.self, "before start") { try fresh.handle(.lockTaken, now: driver.time) }
        let error = UnexpectedCutoverEvent(event: .resumed, awaiting: .pause(deadline: driver.time.instant), state: .fenced)
        #expect(error.status == .failed)
        #expect(error.problem.contains("in state fenced"))
    }

    @Test func progressShortOfTheCutoverLSNKeepsWaiting() throws {
        var driver = CutoverDriver()
        try driver.run(beforeAnswer: { driver, action in
            guard case .waitForProgress(let lsn) = action else { return nil }
            #expect(lsn == CutoverDriver.cutoverLSN)
            #expect(try driver.machine.handle(.progressReached(LSN(rawValue: lsn.rawValue - 1)), now: driver.time) == nil)
            #expect(driver.machine.awaiting == action)
            return try driver.machine.handle(.progressReached(LSN(rawValue: lsn.rawValue + 8)), now: driver.time)
        })
        #expect(driver.names == CutoverMachineTests.happyPath)
    }

    @Test func preflightFindingsAreTheRefusalsReason() throws {
        var driver = CutoverDriver()
        try driver.run(beforeAnswer: { driver, action in
            guard action == .checkPreflight else { return nil }
            return try driver.machine.handle(.preflightFailed(findings: ["table public.t2 is missing on the passive", "lag 3 s > --max-lag 1 s"]),
                                             now: driver.time)
        })
        #expect(driver.names.suffix(2) == ["journal failed", "report refused"])
        let error = try #require(driver.outcome?.error)
        #expect(error.status == .refused)
        #expect(error.problem == "cutover refused in preflight, nothing was changed: table public.t2 is missing on the passive; lag 3 s > --max-lag 1 s")
    }
}
