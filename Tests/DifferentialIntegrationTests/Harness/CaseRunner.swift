import Foundation
import PostgresClient
import TestSupport

/// Runs a case against the test bed through the built `continuity` executable: the source
/// gets the schema and the rows; `stream --init copy` follows it into a fresh passive while
/// the workload runs, killed and restarted, then catches up; a snapshot of the final source is
/// restored into another fresh database; both must equal the source.
enum CaseRunner {
    static func run(_ testCase: DifferentialCase) async throws -> Outcome {
        var outcome = Outcome()
        try await withTestDatabase(on: TestBed.active) { source in
            try await applySettings(testCase.sourceSettings, to: source)
            try await withConnection(source) { sql in
                try await sql.execute(DatabaseSettings.fixedSession)
                try await sql.execute(testCase.schemaSQL)
            }
            try await execute(testCase.initial, on: source, waitingFor: nil)
            let owners = try await Comparison.owners(testCase.tables, in: source)
            if testCase.excluded.contains(.stream) {
                try await execute(testCase.workload, on: source, waitingFor: nil)
            } else {
                try await stream(testCase, from: source, owners: owners, into: &outcome)
            }
            if !testCase.excluded.contains(.snapshot) {
                try await snapshotAndRestore(testCase, from: source, owners: owners, into: &outcome)
            }
        }
        return outcome
    }

    /// A crash (a runtime trap is a defect this test finds) ends the process at once: the
    /// backtracer it would start instead was seen to leave it a zombie Foundation never reaps,
    /// so that the test waited for it forever.
    static let environment = ["SWIFT_BACKTRACE": "enable=no"]

    static func applySettings(_ settings: DatabaseSettings, to dsn: ConnectionString) async throws {
        guard let name = dsn["dbname"] else { return }
        try await withConnection(dsn) { sql in
            for statement in settings.statements(database: name) { try await sql.execute(statement) }
        }
    }

    /// Runs transactions one after another in a session with fixed settings. Those with a
    /// TRUNCATE wait for `copied` (see `Transaction.truncates`).
    static func execute(_ transactions: [Transaction], on dsn: ConnectionString, waitingFor copied: WorkloadSwitch?) async throws {
        try await withConnection(dsn) { sql in
            try await sql.execute(DatabaseSettings.fixedSession)
            for transaction in transactions {
                if transaction.truncates, let copied {
                    try await waitUntil("the initial copy to finish before a TRUNCATE", timeout: .seconds(300)) { copied.isOn }
                }
                do {
                    try await sql.execute(transaction.sql)
                } catch {
                    _ = try? await sql.execute("ROLLBACK")
                    throw WorkloadFailed(sql: transaction.sql, error: error)
                }
            }
        }
    }

    private static func stream(_ testCase: DifferentialCase, from source: ConnectionString, owners: [String: Int],
                               into outcome: inout Outcome) async throws {
        try await withTestDatabase(on: TestBed.passive) { target in
            try await applySettings(testCase.streamTargetSettings, to: target)
            let slot = uniqueName("diff")
            let arguments = ["stream", "--json", "--source", source.conninfo, "--target", target.conninfo, "--slot", slot,
                             "--publication", uniqueName("diff"), "--init", "copy"]
            let copied = WorkloadSwitch(false)
            let writer = Task { try await execute(testCase.workload, on: source, waitingFor: copied) }
            defer { writer.cancel() }
            var stopped = false
            // Each run copies (the first) or resumes, streams, and is killed at a random moment;
            // without kills, one run streams the whole workload and stops on SIGTERM.
            for (run, delay) in (testCase.killDelays.isEmpty ? [nil] : testCase.killDelays.map { Optional($0) }).enumerated() {
                let running = try RunningCommand(arguments, environment: environment)
                // Streaming (its log says so) means the copy is done, on the first run, and on
                // later runs that the kill falls while it applies, not while it starts.
                try await waitUntil("the stream to copy and start streaming", timeout: .seconds(300)) {
                    !running.isRunning || running.stderrSoFar.contains("streaming slot")
                }
                guard running.isRunning else {
                    let result = try await running.finished()
                    outcome.add(.stream, "stream run \(run + 1) exited \(result.status) before it was killed:\n\(said(result))")
                    stopped = true
                    break
                }
                copied.turnOn()
                if let delay {
                    try await Task.sleep(for: .milliseconds(delay))  // a random moment, not a synchronisation
                    let exitedByItself = !running.isRunning
                    if !exitedByItself { running.signal(SIGKILL) }
                    let result = try await running.finished()
                    if exitedByItself && result.status != 0 {
                        outcome.add(.stream, "stream run \(run + 1) exited \(result.status) before it was killed:\n\(said(result))")
                    }
                } else {
                    _ = try await writer.value
                    if running.isRunning { running.signal(SIGTERM) }
                    let result = try await running.finished()
                    if result.status != 0 { outcome.add(.stream, "the stream exited \(result.status) on SIGTERM:\n\(said(result))") }
                }
            }
            if stopped { copied.turnOn() }
            _ = try await writer.value
            let final = try await CommandLineRun.run(arguments + ["--until", "caught-up"], environment: environment)
            if final.status != 0 {
                outcome.add(.stream, "the final `stream --until caught-up` exited \(final.status):\n\(said(final))")
            }
            try await Comparison.compare(.stream, source: source, target: target, owners: owners, into: &outcome)
        }
    }

    /// What a run said that matters: its log without the info lines, at most 40 lines.
    private static func said(_ run: CommandLineRun) -> String {
        run.stderr.split(separator: "\n").filter { !$0.contains(" info ") }.suffix(40).joined(separator: "\n")
    }

    private static func snapshotAndRestore(_ testCase: DifferentialCase, from source: ConnectionString, owners: [String: Int],
                                           into outcome: inout Outcome) async throws {
        try await withTestDatabase(on: TestBed.passive) { target in
            try await applySettings(testCase.restoreTargetSettings, to: target)
            let store = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-diff-\(UUID())").path
            try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: store) }
            let snapshot = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)",
                                                         "--stack", "diff", "--jobs", "2"], environment: environment)
            guard snapshot.status == 0 else {
                outcome.add(.snapshot, "snapshot exited \(snapshot.status):\n\(said(snapshot))")
                return
            }
            let restore = try await CommandLineRun.run(["restore", "--target", target.conninfo, "--store", "file://\(store)",
                                                        "--stack", "diff", "--jobs", "2"], environment: environment)
            guard restore.status == 0 else {
                outcome.add(.snapshot, "restore exited \(restore.status):\n\(said(restore))")
                return
            }
            try await Comparison.compare(.snapshot, source: source, target: target, owners: owners, into: &outcome)
        }
    }
}
