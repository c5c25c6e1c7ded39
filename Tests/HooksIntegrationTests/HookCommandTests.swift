import Foundation
import PostgresClient
import Testing
import TestSupport

@Suite struct HookCommandTests {
    @Test func preDestroyFencesSnapshotsAndVerifiesAndPostCreateRestoresOnce() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) {
                try await $0.execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 500) i")
            }
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withStackConfig("orders", source: source, target: target,
                                          extra: ["fence: readonly", "stream: on", "slot: orders_slot"]) { config, _ in
                    let destroy = try await CommandLineRun.run(["hook", "pre-destroy", "--config", config, "--stack", "orders", "--json"])
                    #expect(destroy.status == 0, "\(destroy.stderr)")
                    let first = try HookReport.decode(destroy.stdout)
                    #expect((first.verifiedObjects ?? 0) >= 3)
                    // The fence stays up: the stack is going away.
                    let readOnly = try await withConnection(source) { try await $0.query("SHOW default_transaction_read_only").scalar(String.self) }
                    #expect(readOnly == "on")

                    // A re-run (after a crash, or a retried destroy) finishes the job: a new, verified snapshot.
                    let again = try await CommandLineRun.run(["hook", "pre-destroy", "--config", config, "--stack", "orders", "--json"])
                    #expect(again.status == 0, "\(again.stderr)")
                    let second = try HookReport.decode(again.stdout)
                    #expect(second.snapshotId != first.snapshotId)

                    let create = try await CommandLineRun.run(["hook", "post-create", "--config", config, "--stack", "orders", "--json"])
                    #expect(create.status == 0, "\(create.stderr)")
                    let restored = try HookReport.decode(create.stdout)
                    #expect(restored.outcome == "restored")
                    #expect(restored.snapshotId == second.snapshotId)
                    #expect(restored.streamWanted == true)
                    #expect(try await count("t", in: target) == 500)

                    // Written to after the restore: a second hook must not restore over it.
                    try await withConnection(target) { try await $0.execute("INSERT INTO t VALUES (501, 'new')") }
                    let twice = try await CommandLineRun.run(["hook", "post-create", "--config", config, "--stack", "orders"])
                    #expect(twice.status == 0, "\(twice.stderr)")
                    #expect(twice.stdout.contains("already holds snapshot \(second.snapshotId ?? "?")"))
                    #expect(twice.stdout.contains("start it with the agent"))
                    #expect(try await count("t", in: target) == 501)

                    // A newer snapshot does not make post-create replace what the target holds.
                    let third = try await CommandLineRun.run(["hook", "pre-destroy", "--config", config, "--stack", "orders"])
                    #expect(third.status == 0, "\(third.stderr)")
                    let refused = try await CommandLineRun.run(["hook", "post-create", "--config", config, "--stack", "orders"])
                    #expect(refused.status == 3, "\(refused.stderr)")
                    #expect(refused.stderr.contains("not the newest of stack orders"))
                    #expect(try await count("t", in: target) == 501)
                }
            }
        }
    }

    /// A retried hook racing a slow first one: one restores, the other waits and finds it done.
    @Test func twoPostCreatesAtOnceRestoreOnce() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t AS SELECT generate_series(1, 50000) AS id") }
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withStackConfig("race", source: source, target: target) { config, _ in
                    let snapshot = try await CommandLineRun.run(["hook", "pre-destroy", "--config", config, "--stack", "race"])
                    #expect(snapshot.status == 0, "\(snapshot.stderr)")
                    let arguments = ["hook", "post-create", "--config", config, "--stack", "race", "--json"]
                    async let first = CommandLineRun.run(arguments)
                    async let second = CommandLineRun.run(arguments)
                    let runs = try await [first, second]
                    #expect(runs.map(\.status) == [0, 0], "\(runs.map(\.stderr))")
                    let outcomes = try runs.map { try HookReport.decode($0.stdout).outcome ?? "" }.sorted()
                    #expect(outcomes == ["already-restored", "restored"])
                    #expect(try await count("t", in: target) == 50000)
                }
            }
        }
    }

    @Test func postCreateOnAnEmptyStoreLeavesTheTargetAndRefusesAForeignDatabase() async throws {
        try await withTestDatabase(on: TestBed.passive) { target in
            try await withStackConfig("fresh", source: target, target: target) { config, _ in
                let first = try await CommandLineRun.run(["hook", "post-create", "--config", config, "--stack", "fresh", "--json"])
                #expect(first.status == 0, "\(first.stderr)")
                #expect(try HookReport.decode(first.stdout).outcome == "nothing-to-restore")

                try await withConnection(target) { try await $0.execute("CREATE TABLE someone_elses (id int)") }
                let foreign = try await CommandLineRun.run(["hook", "post-create", "--config", config, "--stack", "fresh"])
                #expect(foreign.status == 3)
                #expect(foreign.stderr.contains("is not empty (1 tables, views or sequences) and was not restored by continuity"))
            }
        }
    }

    @Test func preDestroyFailsWhenTheSnapshotIsNotCertain() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t AS SELECT generate_series(1, 200000) AS id") }
            // Nothing listens on port 1: the store is unreachable.
            let unreachable = "s3://bucket/prefix?endpoint=http://127.0.0.1:1&region=us-east-1"
            try await withStackConfig("gone", source: source, target: source, store: unreachable) { config, _ in
                let run = try await CommandLineRun.run(["hook", "pre-destroy", "--config", config, "--stack", "gone"],
                                                       environment: ["AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"])
                #expect(run.status == 1, "\(run.stderr)")
                #expect(run.stdout.isEmpty)
            }
            try await withStackConfig("slow", source: source, target: source) { config, directory in
                let run = try await CommandLineRun.run(["hook", "pre-destroy", "--config", config, "--stack", "slow", "--deadline", "50ms"])
                #expect(run.status == 1)
                #expect(run.stderr.contains("did not finish within the deadline of 50ms"), "\(run.stderr)")
                let list = try await CommandLineRun.run(["snapshots", "list", "--store", "file://\(directory)/store", "--stack", "slow", "--json"])
                #expect(list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || list.stdout.contains("[]"), "\(list.stdout)")
            }
        }
    }

    @Test func theLifecycleCommandHeartbeatsThenCompletes() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int PRIMARY KEY)") }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-lifecycle-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let script = directory + "/asg"
            try "#!/bin/sh\necho \"$1 $CONTINUITY_LIFECYCLE_ACTION $CONTINUITY_LIFECYCLE_RESULT $CONTINUITY_STACK\" >> \(directory)/calls\n"
                .write(toFile: script, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
            try await withStackConfig("asg", source: source, target: source,
                                      extra: ["lifecycle_command: \(script)"]) { config, _ in
                let run = try await CommandLineRun.run(["hook", "pre-destroy", "--config", config, "--stack", "asg", "--json"])
                #expect(run.status == 0, "\(run.stderr)")
                #expect(try HookReport.decode(run.stdout).lifecycle == "completed")
                let calls = try String(contentsOfFile: directory + "/calls", encoding: .utf8).split(separator: "\n")
                #expect(calls.first == "heartbeat heartbeat CONTINUE asg")
                #expect(calls.last == "complete complete CONTINUE asg")
            }
        }
    }

    @Test func configCheckSaysWhatEachStackWillDoAndRefusesBadInputWithItsLine() async throws {
        try await withStackConfig("orders", source: try TestBed.active, target: try TestBed.passive,
                                  extra: ["schedule: \"*/5 * * * *\"", "keep: 3", "stream: on"]) { config, directory in
            let check = try await CommandLineRun.run(["config", "check", "--config", config])
            #expect(check.status == 0, "\(check.stderr)")
            #expect(check.stdout.contains("stack orders:"))
            #expect(check.stdout.contains("schedule: */5 * * * * (UTC), next at "))
            #expect(check.stdout.contains("stream: on, slot continuity"))
            let json = try await CommandLineRun.run(["config", "check", "--config", config, "--json"])
            #expect(json.status == 0)
            let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            #expect((document?["stacks"] as? [[String: Any]])?.first?["keep"] as? Int == 3)

            let store = "file://\(directory)/store"
            let bad = directory + "/bad.yaml"
            try stackConfig("orders", source: try TestBed.active, target: try TestBed.passive, store: store, extra: ["shedule: daily"])
                .write(toFile: bad, atomically: true, encoding: .utf8)
            let refused = try await CommandLineRun.run(["config", "check", "--config", bad])
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("line 6: stacks.orders.shedule: is not a known setting"))
            #expect(refused.stderr.contains("did you mean 'schedule'?"))

            let inline = directory + "/inline.yaml"
            try stackConfig("orders", source: try TestBed.active.setting("password", to: "hunter2"), target: try TestBed.passive, store: store)
                .write(toFile: inline, atomically: true, encoding: .utf8)
            let hook = try await CommandLineRun.run(["hook", "pre-destroy", "--config", inline, "--stack", "orders"])
            #expect(hook.status == 2)
            #expect(hook.stderr.contains("line 3: stacks.orders.source: holds a password inline"))
            #expect(!hook.stderr.contains("hunter2"))
        }
    }
}
