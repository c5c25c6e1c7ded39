import PostgresTypes
@testable import Cutover
import Testing

/// --max-pause, with the time passed in: it runs from PAUSE until the promoted record is in the
/// journal, and running out rolls back; after that it changes nothing.
@Suite struct CutoverMaxPauseTests {
    struct Expiry: CustomTestStringConvertible, Sendable {
        /// The action under way when the time runs out.
        let during: String
        let reached: CutoverState
        /// A journal write is never abandoned: the tick waits for its answer.
        var journalWrite = false
        var testDescription: String { during }
    }

    static let expiries = [
        Expiry(during: "pause", reached: .fenced),
        Expiry(during: "read LSN", reached: .fenced),
        Expiry(during: "journal caught-up", reached: .caughtUp, journalWrite: true),
        Expiry(during: "wait for 0/3000", reached: .caughtUp),
        Expiry(during: "journal sequences-synced", reached: .sequencesSynced, journalWrite: true),
        Expiry(during: "copy sequences", reached: .sequencesSynced),
    ]

    @Test(arguments: expiries) func runningOutBeforePromotedRollsBack(_ expiry: Expiry) throws {
        var driver = CutoverDriver()
        var ticked = false
        try driver.run(beforeAnswer: { driver, action in
            guard !ticked, CutoverDriver.name(action) == expiry.during else { return nil }
            ticked = true
            let deadline = try #require(driver.machine.deadline)
            driver.time.instant = deadline - .milliseconds(1)
            #expect(try driver.machine.handle(.tick, now: driver.time) == nil, "not yet")
            driver.time.instant = deadline
            let after = try driver.machine.handle(.tick, now: driver.time)
            if expiry.journalWrite {
                #expect(after == nil)
                return nil  // the write is answered; the rollback follows that answer
            }
            return after
        })
        #expect(driver.names.suffix(CutoverMachineTests.rollBack.count) == CutoverMachineTests.rollBack)
        let outcome = try #require(driver.outcome)
        #expect(outcome.reached == expiry.reached)
        #expect(outcome.problems == ["--max-pause (2000 ms) ran out in state \(expiry.reached.rawValue)"])
    }

    /// The promoted record is the point of no return: confirmed after the deadline, it stands.
    @Test func thePromotedRecordConfirmedLateStillRollsForward() throws {
        var driver = CutoverDriver()
        try driver.run(beforeAnswer: { driver, action in
            guard CutoverDriver.name(action) == "journal promoted", let deadline = driver.machine.deadline else { return nil }
            driver.time.instant = deadline + .seconds(1)
            let after = try driver.machine.handle(.tick, now: driver.time)
            #expect(after == nil)
            return nil
        })
        #expect(driver.names == CutoverMachineTests.happyPath)
        #expect(driver.outcome?.ending == .done)
    }

    /// An answer that comes after the deadline rolls back instead of going on.
    @Test func aLateAnswerRollsBack() throws {
        var driver = CutoverDriver()
        try driver.run(beforeAnswer: { driver, action in
            if CutoverDriver.name(action) == "copy sequences", let deadline = driver.machine.deadline { driver.time.instant = deadline }
            return nil
        })
        #expect(driver.names.suffix(6) == ["copy sequences"] + CutoverMachineTests.rollBack)
        #expect(driver.outcome?.reached == .sequencesSynced)
    }

    @Test func theDeadlineIsMaxPauseAfterPauseAndOnlyUntilPromoted() throws {
        var driver = CutoverDriver()
        var deadlines: [String: ContinuousClock.Instant?] = [:]
        var pauseSentAt: ContinuousClock.Instant?
        try driver.run(beforeAnswer: { driver, action in
            let name = CutoverDriver.name(action)
            deadlines[name] = driver.machine.deadline
            if case .pause(let deadline) = action {
                pauseSentAt = driver.time.instant - .milliseconds(10)  // the driver moved the time after issuing
                #expect(deadline == driver.machine.deadline)
            }
            // Long after the deadline, ticks change nothing once promoted.
            if ["fence old active", "rewrite router", "resume"].contains(name) {
                let after = try driver.machine.handle(.tick, now: driver.time + .seconds(60))
                #expect(after == nil)
            }
            return nil
        })
        let start = try #require(pauseSentAt)
        #expect(deadlines["check preflight"]! == nil)
        #expect(deadlines["start watchdog"]! == nil)
        for name in ["pause", "read LSN", "wait for 0/3000", "copy sequences", "journal promoted"] {
            #expect(deadlines[name]! == start + CutoverDriver.maxPause, "\(name)")
        }
        for name in ["fence old active", "unfence passive", "rewrite router", "resume"] {
            #expect(deadlines[name]! == nil, "\(name)")
        }
        #expect(driver.names == CutoverMachineTests.happyPath)
    }

    @Test func aPauseHeldPastItsDeadlineRollsBackNamingTheSessions() throws {
        var driver = CutoverDriver()
        try driver.run(beforeAnswer: { driver, action in
            guard case .pause(let deadline) = action else { return nil }
            driver.time.instant = deadline  // the executor gives PAUSE up at the deadline
            return try driver.machine.handle(.pauseTimedOut(heldBy: ["pid 4242 (app, idle in transaction)"]), now: driver.time)
        })
        #expect(driver.names.suffix(5) == CutoverMachineTests.rollBack)
        #expect(driver.outcome?.reached == .fenced)
        #expect(driver.outcome?.problems == ["PAUSE did not finish within --max-pause (2000 ms), held by: pid 4242 (app, idle in transaction)"])
    }
}
