import Foundation
import PostgresClient
import Testing
import TestSupport

/// `kill -9` of a cutover at a random moment, with clients writing through PgBouncer. Each case
/// is one seed: it picks the state to wait for in the journal (or none: a moment counted from
/// the start, which may fall in preflight or after the end), a delay after it, whether a
/// `continuity stream` runs beside the cutover (and stops a while as it starts) and whether it
/// is `--reverse`. Whatever the moment, once the dead-man's switch has ended:
/// - clients were paused, never failed, and write again, to the node PgBouncer points at;
///   then `--recover` exits 0;
/// - forward: the old active is fenced read-only, its forward slot gone, every row committed on
///   it is on the new one, and a reverse slot left is one the cutover vouched for;
/// - back: there is no reverse slot, and once the stream caught up both hold the same rows;
/// - every commit a client saw acknowledged is on the node that is now the active.
///
/// `CONTINUITY_CUTOVER_KILL_CASES=N` (default 3) cases from `CONTINUITY_CUTOVER_KILL_FIRST_SEED`
/// (default random); `CONTINUITY_CUTOVER_KILL_SEED=N` repeats one. A failure prints its seed.
@Suite struct CutoverKillTests {
    static let states = ["", "fenced", "caught-up", "sequences-synced", "promoted", "repointed"]

    struct Moment: CustomStringConvertible {
        let seed: UInt64
        let after: String
        let delay: Int
        let streamRuns: Bool
        /// How long the stream is stopped (SIGSTOP) from just before the cutover starts, so that
        /// the catch-up has rows to wait for; past --max-pause the cutover rolls back by itself.
        let stall: Int
        let reverse: Bool

        init(seed: UInt64) {
            var random = SplitMix64(seed: seed)
            self.seed = seed
            after = random.pick(CutoverKillTests.states)
            delay = after.isEmpty ? random.int(0...3000) : random.int(0...60)
            streamRuns = random.chance(70)
            stall = streamRuns && random.chance(40) ? random.int(200...3500) : 0
            reverse = random.chance(30)
        }

        var description: String {
            "seed \(seed): kill -9 \(delay) ms after \(after.isEmpty ? "the start" : "journalling \(after)"), "
                + "\(streamRuns ? "a stream running" : "no stream")\(stall > 0 ? " stopped for \(stall) ms" : ""), \(reverse ? "--reverse" : "no --reverse")"
        }
    }

    static var seeds: [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let one = environment["CONTINUITY_CUTOVER_KILL_SEED"].flatMap(UInt64.init) { return [one] }
        let count = environment["CONTINUITY_CUTOVER_KILL_CASES"].flatMap(Int.init) ?? 3
        let first = environment["CONTINUITY_CUTOVER_KILL_FIRST_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...999_999_999)
        return (0..<UInt64(max(count, 0))).map { first &+ $0 }
    }

    @Test(arguments: seeds) func killedAtARandomMomentLosesNothingAndLeavesOneActive(seed: UInt64) async throws {
        let moment = Moment(seed: seed)
        print("cutover kill test: \(moment)")
        try await CutoverFixture.with { fixture in
            let stream = moment.streamRuns ? try RunningCommand(fixture.streamArguments()) : nil
            defer { stream?.signal(SIGKILL) }  // whatever happens to the test
            if stream != nil { try await fixture.waitForStream() }
            let clients = ClientLoad(try fixture.bouncer.client("app"))
            try await waitUntil("clients to write") { clients.acknowledgedSoFar > 20 }

            var resume: Task<Void, Never>?
            if moment.stall > 0, let stream {
                stream.signal(SIGSTOP)
                resume = Task {
                    try? await Task.sleep(for: .milliseconds(moment.stall))  // a random length, not a synchronisation
                    stream.signal(SIGCONT)
                }
            }
            let cutover = try RunningCommand(fixture.cutoverArguments(["--max-pause", "3s", "--max-lag", "60s"]
                                                                       + (moment.reverse ? ["--reverse"] : [])))
            defer { cutover.signal(SIGKILL) }
            if !moment.after.isEmpty {
                try await waitUntil("the journal to reach \(moment.after)", timeout: .seconds(60), interval: .milliseconds(10)) {
                    let journal = (try? String(contentsOfFile: fixture.journal, encoding: .utf8)) ?? ""
                    // A cutover that ended before the state (rolled back) is killed at its end.
                    return journal.contains("\"state\":\"\(moment.after)\"") || !cutover.isRunning
                }
            }
            try await Task.sleep(for: .milliseconds(moment.delay))  // the random moment itself, not a synchronisation
            cutover.signal(SIGKILL)
            let killed = try await cutover.finished()
            await resume?.value
            let journalled = Self.journalStates(fixture).last ?? "nothing"

            // Settled: the dead-man's switch has ended (or never started).
            let log = fixture.journal + ".watchdog.log"
            try await waitUntil("the watchdog to end", timeout: .seconds(60), interval: .milliseconds(200)) {
                await offThePool { CutoverCommandTests.process(writingStandardErrorTo: log) } == nil
            }
            let context = { "\(moment)\ncutover (exit \(killed.status), \(journalled) journalled last):\n\(killed.stderr)\nwatchdog:\n" + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "none") }
            // The switch alone let clients through: they write again, through PgBouncer.
            let before = clients.acknowledgedSoFar
            do {
                try await waitUntil("clients to write after the kill", timeout: .seconds(30)) { clients.acknowledgedSoFar > before + 20 }
            } catch {
                Issue.record(error, "\(context())")
            }
            let recover = try await CommandLineRun.run(fixture.cutoverArguments(["--recover"]))
            #expect(recover.status == 0, "\(recover.stderr)\n\(context())")
            let (acknowledged, errors) = await clients.stop()
            #expect(errors.isEmpty, "client errors: \(errors.prefix(3))\n\(context())")
            let routed = try await fixture.routedPort()
            let forward = routed == Int(fixture.target["port"] ?? "")
            #expect(forward || routed == Int(fixture.source["port"] ?? ""), "PgBouncer points at port \(routed)\n\(context())")
            let active = forward ? fixture.target : fixture.source
            #expect(try await !CutoverFixture.readOnly(active), "\(context())")
            let onActive = try await CutoverFixture.orderIDs(active)
            #expect(acknowledged.subtracting(onActive).isEmpty,
                    "acknowledged but not on the active: \(acknowledged.subtracting(onActive).sorted().prefix(5))\n\(context())")

            if forward {
                // Never two writable nodes; nothing committed on the old active left behind.
                #expect(try await CutoverFixture.readOnly(fixture.source), "\(context())")
                let onOld = try await CutoverFixture.orderIDs(fixture.source)
                #expect(onOld.subtracting(onActive).isEmpty, "on the old active only: \(onOld.subtracting(onActive).sorted().prefix(5))\n\(context())")
                // The forward slot would hold the old active's WAL for ever.
                #expect(try await !fixture.forwardSlotOnSource(), "the forward slot is left on the old active\n\(context())")
                if moment.reverse { try await Self.expectAVouchedReverseSlot(fixture, context) }
                if let stream {
                    try await waitUntil("the stream to stop, the passive promoted", timeout: .seconds(60)) { !stream.isRunning }
                    #expect(try await stream.finished().status == 0, "\(context())")
                }
            } else {
                // Rolled back: no reverse slot (it is made after the promotion), and the stream
                // goes on from where it was and loses nothing either.
                #expect(try await Self.reverseSlotStart(fixture) == nil, "\(context())")
                if let stream {
                    stream.signal(SIGTERM)
                    try await waitUntil("the stream to stop on SIGTERM", timeout: .seconds(60)) { !stream.isRunning }
                    #expect(try await stream.finished().status == 0, "\(context())")
                }
                let caughtUp = try await CommandLineRun.run(["stream", "--source", fixture.source.conninfo, "--target", fixture.target.conninfo,
                                                             "--slot", fixture.slot, "--until", "caught-up"])
                #expect(caughtUp.status == 0, "\(caughtUp.stderr)\n\(context())")
                #expect(try await CutoverFixture.orderIDs(fixture.target) == onActive, "\(context())")
            }
            print("cutover kill test: seed \(seed), \(killed.status == 128 + SIGKILL ? "killed" : "ended by itself (exit \(killed.status))"), \(journalled) journalled last, "
                  + "settled \(forward ? "forward" : "back"); \(acknowledged.count) commits acknowledged")
        }
    }

    /// The states in the journal file, oldest first.
    static func journalStates(_ fixture: CutoverFixture) -> [String] {
        ((try? String(contentsOfFile: fixture.journal, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["state"] as? String }
    }

    /// Where the reverse slot on the new active starts, if there is one.
    static func reverseSlotStart(_ fixture: CutoverFixture) async throws -> String? {
        try await withConnection(fixture.target) {
            try await $0.query("SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
                               [fixture.slot + "_reverse"]).rows.first?["lsn"]
        }
    }

    /// A reverse slot left after a kill is one the cutover vouched for: made while clients
    /// were paused (it journals `repointed` only then) and its start recorded on the old active,
    /// so a stream back misses nothing. None is fine: the way back is then prepared by hand.
    static func expectAVouchedReverseSlot(_ fixture: CutoverFixture, _ context: () -> String) async throws {
        guard let start = try await reverseSlotStart(fixture) else { return }
        let states = journalStates(fixture)
        let afterPromoted = states.firstIndex(of: "promoted").map { states.dropFirst($0 + 1).first } ?? nil
        #expect(afterPromoted == "repointed", "reverse slot at \(start) left without the cutover's word: \(states)\n\(context())")
        let recorded = try await withConnection(fixture.source) {
            try await $0.query("SELECT lsn::text AS lsn FROM continuity.stream_progress WHERE slot = $1", [fixture.slot + "_reverse"]).rows.first?["lsn"]
        }
        #expect(recorded == start, "the old active's progress for the reverse slot is \(recorded ?? "missing"), the slot starts at \(start)\n\(context())")
    }
}
