import Foundation
import OperatorErrors
import PostgresTypes
@testable import Cutover
import Testing

/// The journal record's encoding, and what --recover and the dead-man's switch do from it.
@Suite struct CutoverJournalTests {
    static let time = Date(timeIntervalSince1970: 1_750_000_000.123)

    @Test(arguments: [nil] + CutoverState.allCases)
    func recoverFromEveryPossibleLastRecord(_ state: CutoverState?) {
        let expected: CutoverRecovery = switch state {
        case nil, .preflight, .resumed, .failed: .nothing
        case .fenced, .caughtUp, .sequencesSynced, .rolledBack: .rollBack
        case .promoted, .repointed: .rollForward
        }
        #expect(CutoverJournal.recover(after: state.map { CutoverJournal(state: $0, time: Self.time) }) == expected)
    }

    /// Whatever moment the process dies at, the journal's last record settles it the way the
    /// machine was settling it: checked at every action of every run the other tests drive.
    @Test func atEveryActionTheJournalAlreadySaysHowToSettleIt() throws {
        var runs: [CutoverDriver] = []
        for failing in CutoverMachineTests.failures.map(\.failing) + [nil] {
            var driver = CutoverDriver()
            try driver.run(failing: failing)
            runs.append(driver)
        }
        for driver in runs {
            for (action, last) in driver.issued {
                let recovery = CutoverJournal.recover(after: last)
                switch action {
                case .pause, .readCutoverLSN, .waitForProgress, .copySequences, .unfenceOldActive:
                    #expect(recovery == .rollBack, "\(action) after \(String(describing: last?.state))")
                case .fenceOldActive, .unfencePassive, .prepareReverse, .rewriteRouter:
                    #expect(recovery == .rollForward, "\(action) after \(String(describing: last?.state))")
                case .resume:
                    #expect(recovery != .nothing, "clients may be paused: the journal must say how to settle it")
                case .takeLock, .checkPreflight, .journal, .report, .startWatchdog:
                    break
                }
            }
        }
    }

    @Test func aRecordIsOneStableLineOfJSONThatReadsBack() throws {
        let full = CutoverJournal(state: .caughtUp, time: Self.time, cutoverLSN: LSN(rawValue: 0x16_B374_D848),
                                  reason: "from caught-up: \"passive\" stopped\nat once")
        #expect(full.jsonLine == #"{"cutover_lsn":"16/B374D848","reason":"from caught-up: \"passive\" stopped\nat once","state":"caught-up","time":"2025-06-15T15:06:40.123Z"}"#)
        #expect(try CutoverJournal(jsonLine: full.jsonLine) == full)
        let bare = CutoverJournal(state: .preflight, time: Self.time)
        #expect(bare.jsonLine == #"{"cutover_lsn":null,"reason":null,"state":"preflight","time":"2025-06-15T15:06:40.123Z"}"#)
        #expect(try CutoverJournal(jsonLine: bare.jsonLine) == bare)
        for state in CutoverState.allCases {
            let record = CutoverJournal(state: state, time: Self.time)
            #expect(try CutoverJournal(jsonLine: record.jsonLine).state == state)
        }
        #expect(full.description == "2025-06-15T15:06:40.123Z  caught-up  at 16/B374D848  from caught-up: \"passive\" stopped\nat once")
        #expect(bare.description == "2025-06-15T15:06:40.123Z  preflight")
    }

    @Test(arguments: [
        "", "{", "null", "[]", #"{"state":"caught-up"}"#,
        #"{"state":"sideways","time":"2025-06-15T15:06:40.123Z"}"#,
        #"{"state":"fenced","time":"yesterday"}"#,
        #"{"state":"fenced","time":"2025-06-15T15:06:40.123Z","cutover_lsn":"16-B3"}"#,
        #"{"state":"fenced","time":"2025-06-15T15:06:40.123Z","cutover_lsn":"FFFFFFFFF/0"}"#,
        #"{"state":"fenced","time":"2025-06-15T15:06:40.123Z","reason":7}"#,
    ])
    func aDamagedRecordIsAFailureNeverATrap(_ line: String) {
        #expect(throws: Failure.self) { try CutoverJournal(jsonLine: line) }
    }
}
