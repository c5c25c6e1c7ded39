import Foundation
import PostgresClient
import Testing
import TestSupport

@Suite struct AgentEndpointTests {
    @Test func tokensStacksBodiesAndOneOperationPerStack() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            // Big enough that a snapshot is still running when the second request arrives.
            try await withConnection(source) { try await $0.execute("CREATE TABLE t AS SELECT i AS id, md5(i::text) AS v FROM generate_series(1, 300000) i") }
            try await withAgent("api", source: source, target: source) { agent in
                #expect(try await agent.request("GET", "/healthz", authorization: .none).status == 200)

                let missing = try await agent.request("POST", "/v1/stacks/api/snapshot", authorization: .none)
                #expect(missing.status == 401)
                #expect(missing.headers.lowercased().contains("www-authenticate: bearer"))
                #expect((missing.json?["error"] as? [String: Any])?["problem"] as? String == "a bearer token is required")
                #expect(try await agent.request("POST", "/v1/stacks/api/snapshot", authorization: "Bearer not-it").status == 403)
                #expect(try await agent.request("POST", "/v1/stacks/nope/snapshot").status == 404)
                let malformed = try await agent.request("POST", "/v1/stacks/api/snapshot", body: "{not json")
                #expect(malformed.status == 400)
                #expect((malformed.json?["error"] as? [String: Any])?["problem"] as? String == "the body is not JSON")
                let unknown = try await agent.request("POST", "/v1/stacks/api/restore", body: #"{"clean": true}"#)
                #expect(unknown.status == 400)
                // Nothing ran for any of them.
                #expect(agent.snapshots("api").isEmpty)

                async let first = agent.request("POST", "/v1/stacks/api/snapshot")
                async let second = agent.request("POST", "/v1/stacks/api/snapshot")
                let answers = try await [first, second]
                #expect(answers.map(\.status).sorted() == [200, 409], "\(answers.map(\.body))")
                let taken = try #require(answers.first { $0.status == 200 })
                let id = try #require(taken.json?["id"] as? String)
                #expect(agent.snapshots("api") == [id])
                let busy = try #require(answers.first { $0.status == 409 })
                #expect(((busy.json?["error"] as? [String: Any])?["problem"] as? String)?.contains("busy: snapshot is running") == true)

                let size = try await agent.metric("continuity_snapshot_last_size_bytes", stack: "api")
                #expect((size ?? 0) > 0)
                #expect((try await agent.metric("continuity_snapshot_last_success_timestamp_seconds", stack: "api") ?? 0) > 1_700_000_000)

                // A refusal keeps its meaning: restore into a non-empty database is exit 3 → 422, with the command's JSON error.
                let refused = try await agent.request("POST", "/v1/stacks/api/restore", body: #"{"snapshot": "\#(id)"}"#)
                #expect(refused.status == 422, "\(refused.body)")
                #expect((refused.json?["error"] as? [String: Any])?["exit_status"] as? Int == 3)
            }
        }
    }

    @Test func sigtermLeavesNoChildAndNoHalfListedSnapshot() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t AS SELECT i AS id, md5(i::text) AS v FROM generate_series(1, 1500000) i") }
            try await withAgent("stop", source: source, target: source, extra: ["jobs: 1"]) { agent in
                async let answer = agent.request("POST", "/v1/stacks/stop/snapshot")
                try await waitUntil("the snapshot to start writing") {
                    agent.processes().count >= 2
                        && ((try? FileManager.default.contentsOfDirectory(atPath: "\(agent.directory)/store/stop"))?.isEmpty == false)
                }
                agent.process.signal(SIGTERM)
                let stopped = try await answer
                // The snapshot was stopped, not finished: the command's own error, exit 1.
                #expect(stopped.status == 500, "\(stopped.body)")
                #expect(agent.snapshots("stop").isEmpty)
                let list = try await CommandLineRun.run(["snapshots", "list", "--store", agent.store, "--stack", "stop", "--json"])
                #expect(list.stdout.filter { !$0.isWhitespace } == "[]", "\(list.stdout)")
            }
            // withAgent then saw exit 0 and no process of the agent left.
        }
    }
}

@Suite struct AgentScheduleTests {
    @Test func aScheduleTakesSnapshotsAndRetentionPrunesToKeep() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t AS SELECT generate_series(1, 100) AS id") }
            try await withAgent("sched", source: source, target: source, extra: ["schedule: \"@every 2s\"", "keep: 2"]) { agent in
                var seen = Set<String>()
                try await waitUntil("four scheduled snapshots, pruned to two", timeout: .seconds(90), interval: .milliseconds(250)) {
                    let now = agent.snapshots("sched")
                    seen.formUnion(now)
                    return seen.count >= 4 && now.count == 2
                }
                // Retention keeps the newest.
                #expect(agent.snapshots("sched") == Array(seen.sorted().suffix(2)))
                #expect((try await agent.metric("continuity_snapshot_last_duration_seconds", stack: "sched") ?? 0) > 0)
                #expect(try await agent.metric("continuity_snapshot_failures_total", stack: "sched") == 0)
            }
        }
    }

    /// Slots missed while the agent was down run once when it starts, not once each: the
    /// store's newest snapshot finished three intervals before the agent starts, so two slots
    /// were missed. Then the next run is a whole interval after that one ended.
    @Test func slotsMissedWhileDownRunOnceAtStart() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t AS SELECT generate_series(1, 100) AS id") }
            // A 60 s interval: the first slot after the start is a minute away, far beyond any
            // start-up delay of a loaded machine, so a snapshot within 45 s was run at start.
            try await withAgent("missed", source: source, target: source, extra: ["schedule: \"@every 60s\"", "keep: 10"], beforeStart: { store in
                let taken = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", store, "--stack", "missed"])
                #expect(taken.status == 0, "\(taken.stderr)")
                try backdateManifests(in: store, by: 180)
            }) { agent in
                try await waitUntil("the snapshot of the missed slots", timeout: .seconds(45), interval: .milliseconds(200)) {
                    agent.snapshots("missed").count >= 2
                }
                // Once each would run the second missed slot straight after the first.
                let ran = Date()
                try await waitUntil("a quarter of an interval", timeout: .seconds(30), interval: .milliseconds(200)) {
                    Date() >= ran.addingTimeInterval(15) || agent.snapshots("missed").count > 2
                }
                #expect(agent.snapshots("missed").count == 2, "\(agent.snapshots("missed"))")
            }
        }
    }

    /// A scheduled snapshot never becomes the newest while the source is being (re)created:
    /// not while a restore into it holds its advisory lock, not while it holds no table although
    /// the store has snapshots of the stack (post-create would restore that empty one next).
    @Test func aSlotIsSkippedWhileARestoreRunsOrTheSourceIsEmptyAfterSnapshots() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t AS SELECT generate_series(1, 100) AS id") }
            // A restore into the source in progress: its session holds restore's lock.
            let restore = try await Connection.connect(source)
            try await restore.execute("SELECT pg_advisory_lock(x'63727374'::int, hashtext(current_database()))")
            do {
                try await withAgent("guard", source: source, target: source, extra: ["schedule: \"@every 1s\""]) { agent in
                    try await waitUntil("two slots skipped for the restore", timeout: .seconds(60), interval: .milliseconds(200)) {
                        agent.process.stderrSoFar.components(separatedBy: "a restore into the source database is in progress").count > 2
                    }
                    #expect(agent.snapshots("guard").isEmpty)
                    // Over HTTP nothing is gated: the operator's own snapshot is taken.
                    let taken = try await agent.request("POST", "/v1/stacks/guard/snapshot")
                    #expect(taken.status == 200, "\(taken.body)")
                    #expect(agent.snapshots("guard").count == 1)

                    // The database recreated empty, the store holding its snapshot: still skipped.
                    try await withConnection(source) { try await $0.execute("DROP TABLE t") }
                    try await restore.execute("SELECT pg_advisory_unlock_all()")
                    try await waitUntil("two slots skipped for the empty source", timeout: .seconds(60), interval: .milliseconds(200)) {
                        agent.process.stderrSoFar.components(separatedBy: "the source database holds no table").count > 2
                    }
                    #expect(agent.snapshots("guard").count == 1)

                    // Restored (a table again): the schedule takes snapshots.
                    try await withConnection(source) { try await $0.execute("CREATE TABLE t AS SELECT generate_series(1, 100) AS id") }
                    try await waitUntil("a scheduled snapshot", timeout: .seconds(60), interval: .milliseconds(200)) {
                        agent.snapshots("guard").count >= 2
                    }
                    #expect(try await agent.metric("continuity_snapshot_failures_total", stack: "guard") == 0)
                }
            } catch {
                await restore.close()
                throw error
            }
            await restore.close()
        }
    }
}

@Suite struct AgentStreamTests {
    @Test func theStreamRunsAndItsMetricsMoveWhileRowsAreWritten() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                let schema = "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)"
                try await withConnection(source) { try await $0.execute(schema) }
                try await withConnection(target) { try await $0.execute(schema) }
                let slot = uniqueName("agent_stream")
                let prepared = try await CommandLineRun.run(["stream", "--source", source.conninfo, "--target", target.conninfo,
                                                             "--slot", slot, "--publication", "p", "--until", "caught-up", "--assume-in-sync"])
                #expect(prepared.status == 0, "\(prepared.stderr)")
                try await withAgent("live", source: source, target: target, extra: ["stream: on", "slot: \(slot)", "publication: p"]) { agent in
                    try await waitUntil("the stream to report its figures", timeout: .seconds(60), interval: .milliseconds(500)) {
                        let lag = try await agent.metric("continuity_stream_lag_bytes", stack: "live")
                        let applied = try await agent.metric("continuity_stream_applied_transactions_total", stack: "live")
                        return lag != nil && applied != nil
                    }
                    let before = try #require(try await agent.metric("continuity_stream_applied_transactions_total", stack: "live"))
                    try await withConnection(source) { sql in
                        for i in 0..<50 { try await sql.execute("INSERT INTO accounts VALUES (\(i), \(i))") }
                    }
                    try await waitUntil("the applied counter to move", timeout: .seconds(60), interval: .milliseconds(500)) {
                        (try await agent.metric("continuity_stream_applied_transactions_total", stack: "live") ?? 0) >= before + 50
                    }
                    #expect(try await withConnection(target) { try await $0.query("SELECT count(*) FROM accounts").scalar(Int.self) } == 50)
                    #expect(try await agent.metric("continuity_stream_lag_seconds", stack: "live") != nil)
                    #expect(try await agent.metric("continuity_stream_up", stack: "live") == 1)
                }
                // The agent's SIGTERM stopped the stream: the slot is free again.
                let active = try await withConnection(TestBed.active) {
                    try await $0.query("SELECT active::text FROM pg_replication_slots WHERE slot_name = $1", [slot]).scalar(String.self)
                }
                #expect(active == "false")
                try await withConnection(TestBed.active) { _ = try await $0.execute("SELECT pg_drop_replication_slot($1)", [slot]) }
            }
        }
    }
}

@Suite struct AgentCutoverTests {
    /// `POST /cutover` runs `cutover` with the stack's router settings while the agent's own
    /// stream follows the slot; the stream then ends as promoted and is not started again.
    @Test func aCutoverOverHTTPPromotesThePassiveAndTheStreamStops() async throws {
        try await withStreamedPair(slot: "agent_cut") { source, target, slot in
            let journal = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-agent-\(slot).journal").path
            defer { for file in [journal, journal + ".watchdog.log"] { try? FileManager.default.removeItem(atPath: file) } }
            try await withAgent("cut", source: source, target: target,
                                extra: ["stream: on", "slot: \(slot)", "router: none", "max_pause: 10s", "max_lag: 30s"],
                                environment: ["CONTINUITY_JOURNAL": journal]) { agent in
                try await waitForAStream(on: slot, at: source)
                try await withConnection(source) { try await $0.execute("INSERT INTO orders (client) SELECT 1 FROM generate_series(1, 200)") }
                let cutover = try await agent.request("POST", "/v1/stacks/cut/cutover", body: "{}")
                #expect(cutover.status == 200, "\(cutover.body)\n\(agent.process.stderrSoFar)")
                #expect(cutover.json?["ending"] as? String == "done")
                #expect(try await withConnection(target) { try await $0.query("SELECT count(*) FROM orders").scalar(Int.self) } == 200)
                try await waitUntil("the stream to end as promoted", timeout: .seconds(30), interval: .milliseconds(200)) {
                    agent.process.stderrSoFar.contains("its passive was promoted by a cutover; not restarting it")
                }
                #expect((try await agent.metric("continuity_cutover_last_pause_seconds", stack: "cut") ?? 0) > 0)
                // No stream runs any more: its lag figures are not current.
                try await waitUntil("continuity_stream_up to fall to 0", timeout: .seconds(30), interval: .milliseconds(500)) {
                    try await agent.metric("continuity_stream_up", stack: "cut") == 0
                }
            }
        }
    }
}

@Suite struct AgentShutdownTests {
    /// SIGTERM while a cutover's pause is under way: the agent lets the cutover finish (killed,
    /// it would leave clients paused until its watchdog rolls back), then stops the rest.
    @Test func sigtermDuringACutoverLetsItFinish() async throws {
        try await withStreamedPair(slot: "agent_stop_cut") { source, target, slot in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-\(slot)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            // The router's pause says it began, then holds until the test lets it go (within max_pause).
            let router = directory + "/router"
            try """
                #!/bin/sh
                [ "$CONTINUITY_CUTOVER_PHASE" = pause ] || exit 0
                touch \(directory)/paused
                i=0; while [ ! -e \(directory)/go ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
                """.write(toFile: router, atomically: true, encoding: .utf8)
            chmod(router, 0o755)
            try await withAgent("halt", source: source, target: target,
                                extra: ["stream: on", "slot: \(slot)", "router: command:\(router)", "max_pause: 20s", "max_lag: 30s"],
                                environment: ["CONTINUITY_JOURNAL": directory + "/journal"]) { agent in
                try await waitForAStream(on: slot, at: source)
                async let cutover = agent.request("POST", "/v1/stacks/halt/cutover", body: "{}")
                try await waitUntil("the cutover's pause to begin", timeout: .seconds(60)) {
                    FileManager.default.fileExists(atPath: directory + "/paused")
                }
                agent.process.signal(SIGTERM)
                // The agent has taken the signal: it says it waits, or (killed) the cutover is gone.
                try await waitUntil("the agent to act on SIGTERM", timeout: .seconds(30)) {
                    agent.process.stderrSoFar.contains("waiting for the cutover")
                        || !agent.processes().contains { ProcessTable.arguments(of: $0)?.contains("cutover") == true }
                }
                FileManager.default.createFile(atPath: directory + "/go", contents: nil)
                let answer = try await cutover
                #expect(answer.status == 200, "\(answer.body)\n\(agent.process.stderrSoFar)")
                #expect(answer.json?["ending"] as? String == "done")
            }
        }
    }
}
