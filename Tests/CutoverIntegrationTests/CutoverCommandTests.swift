import Foundation
import Parallelism
import PostgresClient
import Testing
import TestSupport

/// `continuity cutover` run as an operator would, against the test bed's servers and a PgBouncer
/// of each test's own, with clients writing through it the whole time.
@Suite struct CutoverCommandTests {
    struct Report: Decodable {
        let ending: String
        let pauseMilliseconds: Double?
        let sequencesSynced: Int?
        let cutoverLsn: String?
        let forwardSlotDropped: Bool
        let states: [State]
        let reverseSlot: String?
        let reverseStartLsn: String?
        struct State: Decodable { let state: String }
    }

    static func report(_ run: CommandLineRun) throws -> Report {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Report.self, from: Data(run.stdout.utf8))
    }

    /// With a stream running and clients writing through PgBouncer (long-lived and
    /// per-transaction connections): no client error, no acknowledged commit missing on the
    /// new active, inserts go on there with the sequence synced, the old active is read-only,
    /// the stream stops by itself, the forward slot is gone.
    @Test func underLoadNothingIsLostAndClientsOnlyPause() async throws {
        try await CutoverFixture.with { fixture in
            let stream = try RunningCommand(fixture.streamArguments())
            defer { stream.signal(SIGKILL) }  // whatever happens to the test
            try await fixture.waitForStream()
            let clients = ClientLoad(try fixture.bouncer.client("app"), perTransaction: 8)
            try await waitUntil("clients to write") { clients.acknowledgedSoFar > 50 }
            // A generous --max-pause: this test is about losing nothing, on a loaded machine too;
            // `scripts/bench cutover` measures the pause.
            let run = try await CommandLineRun.run(fixture.cutoverArguments(["--max-pause", "10s", "--max-lag", "60s"]))
            let before = clients.acknowledgedSoFar
            try await waitUntil("clients to write after the cutover") { clients.acknowledgedSoFar > before + 50 }
            let longest = clients.longestSoFar
            let (acknowledged, errors) = await clients.stop()
            #expect(run.status == 0, "\(run.stderr)\nthe stream's log:\n\(stream.stderrSoFar)")
            // A client that logged in between RELOAD and RESUME, sent apart, made PgBouncer open
            // no server connection for server_login_retry (15 s) and fail new clients meanwhile
            // (pgbouncer#498): one run in three here, with eight clients connecting per transaction.
            #expect(longest < .seconds(5), "the longest transaction took \(longest)")
            let report = try Self.report(run)
            #expect(report.ending == "done")
            #expect(report.states.map(\.state) == ["preflight", "fenced", "caught-up", "sequences-synced", "promoted", "repointed", "resumed"])
            #expect(report.forwardSlotDropped)
            #expect((report.pauseMilliseconds ?? 60_000) < 10_000)
            #expect(errors.isEmpty, "client errors: \(errors.prefix(3))")
            let onNew = try await CutoverFixture.orderIDs(fixture.target)
            #expect(acknowledged.subtracting(onNew).isEmpty, "acknowledged but missing on the new active: \(acknowledged.subtracting(onNew).sorted().prefix(5))")
            #expect(try await fixture.routedPort() == Int(fixture.target["port"] ?? ""))
            #expect(try await CutoverFixture.readOnly(fixture.source))
            #expect(try await !CutoverFixture.readOnly(fixture.target))
            let ended = try await stream.finished()
            #expect(ended.status == 0, "\(ended.stderr)")
            #expect(ended.stdout.contains("\"promoted\""))
        }
    }

    /// Without a stream process cutover applies the stream itself; with `--router none` the old
    /// active is fenced and the report says where clients go.
    @Test func withoutAStreamOrARouter() async throws {
        try await CutoverFixture.with { fixture in
            try await withConnection(fixture.source) { try await $0.execute("INSERT INTO orders (client) SELECT 1 FROM generate_series(1, 500)") }
            let run = try await CommandLineRun.run(["cutover", "--source", fixture.source.conninfo, "--target", fixture.target.conninfo,
                                                    "--slot", fixture.slot, "--router", "none", "--journal", fixture.journal,
                                                    "--max-pause", "10s"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("clients must now connect to"))
            #expect(try await CutoverFixture.orderIDs(fixture.target).count == 500)
            #expect(try await CutoverFixture.readOnly(fixture.source))
            // The sequence came along: the next insert on the new active takes a new id.
            try await withConnection(fixture.target) { try await $0.execute("INSERT INTO orders (client) VALUES (2)") }
            #expect(try await CutoverFixture.orderIDs(fixture.target).count == 501)
            let status = try await CommandLineRun.run(["cutover", "status", "--target", fixture.target.conninfo, "--slot", fixture.slot,
                                                       "--journal", fixture.journal])
            #expect(status.stdout.contains("resumed"), "\(status.stdout)")
        }
    }

    /// Each refusal: exit 3, the reason named, nothing changed (clients never paused, the
    /// config file untouched, the old active writable).
    @Test func refusedBeforeAnythingChanges() async throws {
        try await CutoverFixture.with { fixture in
            let config = try String(contentsOfFile: fixture.bouncer.configPath, encoding: .utf8)
            try await withConnection(fixture.source) { try await $0.execute("CREATE TABLE only_here (id int PRIMARY KEY)") }
            let missingTable = try await CommandLineRun.run(fixture.cutoverArguments())
            #expect(missingTable.status == 3, "\(missingTable.stderr)")
            #expect(missingTable.stderr.contains("public.only_here"))
            try await withConnection(fixture.source) { try await $0.execute("DROP TABLE only_here") }

            let wrongLine = try await CommandLineRun.run(fixture.cutoverArguments() + ["--pgbouncer-database", "nosuch"])
            #expect(wrongLine.status == 3, "\(wrongLine.stderr)")

            // A second cutover at once: another session holds the lock.
            try await withConnection(fixture.target) { holder in
                try await holder.execute("SELECT pg_advisory_lock(\(0x6363_7574), hashtext(current_database()))")
                let locked = try await CommandLineRun.run(fixture.cutoverArguments())
                #expect(locked.status == 3, "\(locked.stderr)")
                #expect(locked.stderr.contains("another cutover"))
            }
            #expect(try String(contentsOfFile: fixture.bouncer.configPath, encoding: .utf8) == config)
            #expect(try await fixture.routedPort() == Int(fixture.source["port"] ?? ""))
            #expect(try await !CutoverFixture.readOnly(fixture.source))
        }
    }

    /// A role that is neither a superuser nor the database's owner, and may not end sessions
    /// or set the sequences, is refused before anything changes, each lack named.
    @Test func aRoleWithoutTheRightsIsRefusedNamingThem() async throws {
        try await CutoverFixture.with { fixture in
            let role = uniqueName("cut_role")
            try await withConnection(fixture.source) { try await $0.execute("CREATE ROLE \(role) LOGIN; INSERT INTO orders (client) VALUES (1)") }
            try await withConnection(fixture.target) { passive in
                // It may read and write continuity's own tables, as the stream's role does.
                try await passive.execute("""
                    CREATE ROLE \(role) LOGIN; SELECT setval('public.orders_id_seq', 1);
                    GRANT USAGE ON SCHEMA continuity TO \(role); GRANT ALL ON ALL TABLES IN SCHEMA continuity TO \(role);
                    """)
            }
            // The stream runs as the test bed's superuser (its applier sets session_replication_role).
            let stream = try RunningCommand(fixture.streamArguments())
            defer { stream.signal(SIGKILL) }  // whatever happens to the test
            try await fixture.waitForStream()
            // Local socket connections are trusted in the test bed, so the role needs no password.
            let socket = try TestBed.setting("CONTINUITY_TESTBED_DIR")
            func dsn(_ node: ConnectionString) -> String { "host=\(socket) port=\(node["port"]!) dbname=\(node["dbname"]!) user=\(role)" }
            let run = try await CommandLineRun.run(["cutover", "--source", dsn(fixture.source), "--target", dsn(fixture.target),
                                                    "--slot", fixture.slot, "--router", "none", "--journal", fixture.journal])
            try await withConnection(fixture.target) {
                try await $0.execute("REVOKE ALL ON ALL TABLES IN SCHEMA continuity FROM \(role); REVOKE USAGE ON SCHEMA continuity FROM \(role); DROP ROLE \(role)")
            }
            try await withConnection(fixture.source) { try await $0.execute("DROP ROLE \(role)") }
            #expect(run.status == 3, "\(run.stderr)")
            for lack in ["ALTER DATABASE", "pg_signal_backend", "REPLICATION", "public.orders_id_seq"] {
                #expect(run.stderr.contains(lack), "\(lack): \(run.stderr)")
            }
            #expect(try await !CutoverFixture.readOnly(fixture.source))
        }
    }

    /// A client idle in a transaction holds PAUSE: at --max-pause the cutover rolls back,
    /// exit 1, and clients go on writing to the old active.
    @Test func aPauseHeldPastMaxPauseRollsBack() async throws {
        try await CutoverFixture.with { fixture in
            try await withConnection(try fixture.bouncer.client("app"), fixingSettings: false) { idle in
                // A read holds PgBouncer's server connection as well as a write, and takes no xid
                // (an open one would hold up slot creation in every other test on the cluster).
                try await idle.execute("BEGIN; SELECT count(*) FROM public.orders")
                let run = try await CommandLineRun.run(fixture.cutoverArguments(["--max-pause", "1s"]))
                #expect(run.status == 1, "\(run.stderr)")
                #expect(try Self.report(run).ending == "rolled-back")
                try await idle.execute("COMMIT")
            }
            #expect(try await fixture.routedPort() == Int(fixture.source["port"] ?? ""))
            try await withConnection(try fixture.bouncer.client("app"), fixingSettings: false) {
                try await $0.execute("INSERT INTO public.orders (client) VALUES (10)")
            }
            #expect(try await !CutoverFixture.readOnly(fixture.source))
        }
    }

    /// The watchdog started as the cutover starts it, and sent SIGTERM and SIGHUP at once, before
    /// its code can have run: it lives on to read its orders (here unreadable: exit 2).
    @Test func theWatchdogIgnoresTerminationSignalsFromItsStart() async throws {
        let watchdog = try ChildProcess(executable: CommandLineRun.executable.path, arguments: ["cutover", "watchdog"], environment: [:],
                                        standardInput: Array("{}".utf8), blockedSignals: [SIGTERM, SIGINT, SIGHUP],
                                        standardError: .capture)
        watchdog.signal(SIGTERM)
        watchdog.signal(SIGHUP)
        #expect(await watchdog.exited() == 2, "\(String(decoding: watchdog.captured(2), as: UTF8.self))")
        #expect(String(decoding: watchdog.captured(2), as: UTF8.self).contains("orders on standard input cannot be read"))
    }

    /// The process whose standard error is `path` (a cutover's watchdog writes its own log),
    /// from /proc: it reads every process's descriptor, so call it off the cooperative pool.
    static func process(writingStandardErrorTo path: String) -> pid_t? {
        ProcessTable.pids.first { pid in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/2")) == path
        }
    }

    /// kill -9 of the cutover while it waits for a stream that was paused (SIGSTOP): nobody
    /// runs anything, and the dead-man's switch resumes clients on the old active within
    /// --max-pause + 1 s, though it was sent SIGTERM, SIGINT and SIGHUP meanwhile; `--recover`
    /// then finds nothing left to do.
    @Test func killedMidCutoverTheWatchdogResumesClients() async throws {
        try await CutoverFixture.with { fixture in
            let stream = try RunningCommand(fixture.streamArguments())
            defer { stream.signal(SIGKILL) }  // whatever happens to the test
            try await fixture.waitForStream()
            stream.signal(SIGSTOP)
            // A client connected before the pause; its next transaction waits for the RESUME.
            let client = try await Connection.connect(try fixture.bouncer.client("app"), options: .init(fixesSettings: false))
            _ = try await client.query("SELECT 1")
            let cutover = try RunningCommand(fixture.cutoverArguments(["--max-pause", "3s", "--max-lag", "60s"]))
            try await waitUntil("the cutover to pause clients", timeout: .seconds(60)) {
                (try? String(contentsOfFile: fixture.journal, encoding: .utf8))?.contains("caught-up") == true
            }
            cutover.signal(SIGKILL)
            let killedAt = ContinuousClock.now
            // What a service manager stopping everything sends must not end the watchdog too.
            let log = fixture.journal + ".watchdog.log"
            let watchdog = try #require(await offThePool { Self.process(writingStandardErrorTo: log) }, "no watchdog writes \(log)")
            for number in [SIGTERM, SIGINT, SIGHUP] { kill(watchdog, number) }
            let port = try? await client.query("SELECT inet_server_port()").scalar(Int.self)
            await client.close()
            let watchdogLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? "no watchdog log"
            #expect(port == Int(fixture.source["port"] ?? ""), "\(watchdogLog)")
            // --max-pause + 1 s from the watchdog's start, which came before the pause, plus the
            // settling's own sessions (a console login has taken over a second on a loaded machine).
            #expect(ContinuousClock.now - killedAt < .seconds(4) + .seconds(2), "\(watchdogLog)")
            try await waitUntil("the watchdog to journal the rollback") {
                (try? String(contentsOfFile: fixture.journal, encoding: .utf8))?.contains("\"failed\"") == true
            }
            let recover = try await CommandLineRun.run(fixture.cutoverArguments(["--recover"]))
            #expect(recover.status == 0, "\(recover.stderr)")
            #expect(recover.stdout.contains("nothing"))
            stream.signal(SIGCONT)
            stream.signal(SIGTERM)
            _ = try await stream.finished()
            #expect(try await !CutoverFixture.readOnly(fixture.source))
        }
    }

    /// `--recover` long after a completed cutover, its journal ending `resumed`, leaves alone a
    /// slot of the same name that a stream set up since uses (the old active is writable again).
    @Test func aLaterRecoverLeavesASlotOfTheSameNameAlone() async throws {
        try await CutoverFixture.with { fixture in
            let arguments = ["cutover", "--json", "--source", fixture.source.conninfo, "--target", fixture.target.conninfo,
                             "--slot", fixture.slot, "--router", "none", "--journal", fixture.journal]
            let done = try await CommandLineRun.run(arguments + ["--max-pause", "10s"])
            #expect(done.status == 0, "\(done.stderr)")
            try await withConnection(fixture.source.overridingReadOnlyFence()) { old in
                try await old.execute("SET default_transaction_read_only = off")
                try await old.execute("ALTER DATABASE \(fixture.source["dbname"] ?? "") RESET default_transaction_read_only")
                try await old.execute("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [fixture.slot])
            }
            let recover = try await CommandLineRun.run(arguments + ["--recover"])
            #expect(recover.status == 0, "\(recover.stderr)")
            #expect(!recover.stdout.contains("dropped"), "\(recover.stdout)")
            #expect(try await fixture.forwardSlotOnSource())
        }
    }

    /// The passive goes away in the middle of the pause (the cutover's session to it ended while
    /// it waits for the catch-up): the cutover rolls back at once, not at --max-pause, and
    /// clients go on writing to the old active.
    @Test func losingThePassiveMidPauseRollsBackAtOnce() async throws {
        try await CutoverFixture.with { fixture in
            let stream = try RunningCommand(fixture.streamArguments())
            defer { stream.signal(SIGKILL) }  // whatever happens to the test
            try await fixture.waitForStream()
            stream.signal(SIGSTOP)
            let cutover = try RunningCommand(fixture.cutoverArguments(["--max-pause", "20s", "--max-lag", "60s"]))
            defer { cutover.signal(SIGKILL) }
            try await waitUntil("the cutover to wait for the catch-up", timeout: .seconds(60)) {
                (try? String(contentsOfFile: fixture.journal, encoding: .utf8))?.contains("caught-up") == true
            }
            let lostAt = ContinuousClock.now
            // The cutover's session on the passive: the one holding its advisory lock.
            try await withConnection(fixture.target) { passive in
                try await passive.execute("""
                    SELECT pg_terminate_backend(pid) FROM pg_locks
                    WHERE locktype = 'advisory' AND classid = \(0x6363_7574) AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    """)
            }
            let run = try await cutover.finished()
            #expect(ContinuousClock.now - lostAt < .seconds(10), "rolled back at --max-pause, not at once")
            #expect(run.status == 1, "\(run.stderr)")
            #expect(try Self.report(run).ending == "rolled-back")
            #expect(try await fixture.routedPort() == Int(fixture.source["port"] ?? ""))
            #expect(try await !CutoverFixture.readOnly(fixture.source))
            try await withConnection(try fixture.bouncer.client("app"), fixingSettings: false) {
                try await $0.execute("INSERT INTO public.orders (client) VALUES (11)")
            }
            stream.signal(SIGCONT)
            stream.signal(SIGTERM)
            _ = try await stream.finished()
        }
    }

    /// A step that waits in a statement at --max-pause (setval behind a lock another session
    /// holds on the passive's sequence): the statement is cancelled on the server, and the
    /// cutover itself rolls back at once instead of hanging until the lock goes.
    @Test func aStatementWaitingAtMaxPauseIsCancelledAndTheCutoverRollsBack() async throws {
        try await CutoverFixture.with { fixture in
            let stream = try RunningCommand(fixture.streamArguments())
            defer { stream.signal(SIGKILL) }  // whatever happens to the test
            try await fixture.waitForStream()
            // A used sequence: a never used one is not set.
            try await withConnection(fixture.source) { try await $0.execute("INSERT INTO orders (client) VALUES (1)") }
            try await withConnection(fixture.target) { holder in
                try await holder.execute("BEGIN; ALTER SEQUENCE public.orders_id_seq CACHE 1")
                let cutover = try RunningCommand(fixture.cutoverArguments(["--max-pause", "2s", "--max-lag", "60s"]))
                defer { cutover.signal(SIGKILL) }
                // Before the fix the cutover waited here until the lock went (the watchdog let
                // clients through meanwhile), and the lock is held until the test ends: any deadline
                // tells the two apart, and 60 s leaves a loaded machine room to start the cutover.
                try await waitUntil("the cutover to end by itself", timeout: .seconds(60)) { !cutover.isRunning }
                let run = try await cutover.finished()
                try await holder.execute("ROLLBACK")
                #expect(run.status == 1, "\(run.stderr)")
                #expect(run.stderr.contains("--max-pause"), "\(run.stderr)")
                #expect(try Self.report(run).ending == "rolled-back")
            }
            #expect(try await fixture.routedPort() == Int(fixture.source["port"] ?? ""))
            #expect(try await !CutoverFixture.readOnly(fixture.source))
            stream.signal(SIGTERM)
            _ = try await stream.finished()
        }
    }

    /// kill -9 of the cutover while its PAUSE waits for a client idle in a transaction (state
    /// fenced): the dead-man's switch lets clients through (RESUME on another session cancels
    /// the pending PAUSE), and the client commits on the old active, which is not fenced.
    @Test func killedWhileThePauseIsHeldTheWatchdogResumes() async throws {
        try await CutoverFixture.with { fixture in
            let stream = try RunningCommand(fixture.streamArguments())
            defer { stream.signal(SIGKILL) }  // whatever happens to the test
            try await fixture.waitForStream()
            try await withConnection(try fixture.bouncer.client("app"), fixingSettings: false) { idle in
                // A read holds PgBouncer's server connection and takes no xid (see aPauseHeldPastMaxPauseRollsBack).
                try await idle.execute("BEGIN; SELECT count(*) FROM public.orders")
                let cutover = try RunningCommand(fixture.cutoverArguments(["--max-pause", "3s", "--max-lag", "60s"]))
                defer { cutover.signal(SIGKILL) }
                try await waitUntil("the cutover to send PAUSE", timeout: .seconds(60)) {
                    try await withConnection(fixture.bouncer.admin, fixingSettings: false) { console in
                        try await console.query("SHOW DATABASES").rows.first { $0["name"] == "app" }?["paused"] == "1"
                    }
                }
                cutover.signal(SIGKILL)
                let killedAt = ContinuousClock.now
                try await idle.execute("COMMIT")
                try await waitUntil("the watchdog to journal the rollback", timeout: .seconds(30)) {
                    (try? String(contentsOfFile: fixture.journal, encoding: .utf8))?.contains("\"failed\"") == true
                }
                #expect(ContinuousClock.now - killedAt < .seconds(10))
            }
            let port = try await withConnection(try fixture.bouncer.client("app"), fixingSettings: false) {
                try await $0.query("INSERT INTO public.orders (client) VALUES (13) RETURNING inet_server_port()").scalar(Int.self)
            }
            #expect(port == Int(fixture.source["port"] ?? ""))
            #expect(try await !CutoverFixture.readOnly(fixture.source))
            let recover = try await CommandLineRun.run(fixture.cutoverArguments(["--recover"]))
            #expect(recover.stdout.contains("nothing"), "\(recover.stdout)\n\(recover.stderr)")
            stream.signal(SIGTERM)
            _ = try await stream.finished()
        }
    }

    /// kill -9 of the cutover while it sets the sequences (setval held behind a lock on the
    /// passive): the dead-man's switch rolls back, a client connected before the pause writes to
    /// the old active again, and `--recover` finds nothing to do.
    @Test func killedWhileSettingTheSequencesTheWatchdogRollsBack() async throws {
        try await CutoverFixture.with { fixture in
            let stream = try RunningCommand(fixture.streamArguments())
            defer { stream.signal(SIGKILL) }  // whatever happens to the test
            try await fixture.waitForStream()
            try await withConnection(fixture.source) { try await $0.execute("INSERT INTO orders (client) VALUES (1)") }
            let client = try await Connection.connect(try fixture.bouncer.client("app"), options: .init(fixesSettings: false))
            _ = try await client.query("SELECT 1")
            try await withConnection(fixture.target) { holder in
                try await holder.execute("BEGIN; ALTER SEQUENCE public.orders_id_seq CACHE 1")
                let cutover = try RunningCommand(fixture.cutoverArguments(["--max-pause", "3s", "--max-lag", "60s"]))
                defer { cutover.signal(SIGKILL) }
                try await waitUntil("the cutover to set the sequences", timeout: .seconds(60)) {
                    (try? String(contentsOfFile: fixture.journal, encoding: .utf8))?.contains("sequences-synced") == true
                }
                cutover.signal(SIGKILL)
                let killedAt = ContinuousClock.now
                let written = try? await client.query("INSERT INTO public.orders (client) VALUES (12) RETURNING inet_server_port()").scalar(Int.self)
                await client.close()
                #expect(written == Int(fixture.source["port"] ?? ""))
                // --max-pause + 1 s from the watchdog's start, plus its own sessions on a loaded machine.
                #expect(ContinuousClock.now - killedAt < .seconds(6))
                try await waitUntil("the watchdog to journal the rollback") {
                    (try? String(contentsOfFile: fixture.journal, encoding: .utf8))?.contains("\"failed\"") == true
                }
                try await holder.execute("ROLLBACK")
            }
            let recover = try await CommandLineRun.run(fixture.cutoverArguments(["--recover"]))
            #expect(recover.status == 0, "\(recover.stderr)")
            #expect(recover.stdout.contains("nothing"))
            #expect(try await fixture.routedPort() == Int(fixture.source["port"] ?? ""))
            #expect(try await !CutoverFixture.readOnly(fixture.source))
            stream.signal(SIGTERM)
            #expect(try await stream.finished().status == 0)
        }
    }

    /// kill -9 of the cutover past the point of no return (in the router's repoint, a command
    /// that waits): the dead-man's switch rolls forward (repoint, resume, `resumed`), the
    /// passive is the writable active, the old one fenced, and `--recover` finds nothing to do.
    @Test func killedAfterThePromotionTheWatchdogRollsForward() async throws {
        try await CutoverFixture.with { fixture in
            // The first repoint waits for `hold` to go; later ones run through.
            let script = ScriptDirectory.routingScript + """

                if [ "$CONTINUITY_CUTOVER_PHASE" = repoint ] && [ ! -e "$here/held" ]; then
                    touch "$here/held"
                    while [ -e "$here/hold" ]; do sleep 0.05; done
                fi
                """
            try await ScriptDirectory.with(script: script) { directory in
                FileManager.default.createFile(atPath: directory.path + "/hold", contents: nil)
                defer { try? FileManager.default.removeItem(atPath: directory.path + "/hold") }
                let arguments = ["cutover", "--json", "--source", fixture.source.conninfo, "--target", fixture.target.conninfo,
                                 "--slot", fixture.slot, "--router", "command:" + directory.script, "--journal", fixture.journal,
                                 "--max-pause", "5s"]
                let cutover = try RunningCommand(arguments)
                defer { cutover.signal(SIGKILL) }  // whatever happens to the test
                try await waitUntil("the cutover to wait in the router's repoint", timeout: .seconds(60)) {
                    try cutover.requireRunning()
                    return FileManager.default.fileExists(atPath: directory.path + "/held")
                }
                cutover.signal(SIGKILL)
                try FileManager.default.removeItem(atPath: directory.path + "/hold")
                try await waitUntil("the watchdog to journal the roll forward", timeout: .seconds(30)) {
                    (try? String(contentsOfFile: fixture.journal, encoding: .utf8))?.contains("\"resumed\"") == true
                }
                let phases = try String(contentsOfFile: directory.log, encoding: .utf8).split(separator: "\n").map { $0.prefix { $0 != " " } }
                #expect(phases == ["pause", "repoint", "repoint", "resume"])
                #expect(try await CutoverFixture.readOnly(fixture.source))
                #expect(try await !CutoverFixture.readOnly(fixture.target))
                try await withConnection(fixture.target) { try await $0.execute("INSERT INTO orders (client) VALUES (3)") }
                let recover = try await CommandLineRun.run(Array(arguments.dropLast(2)) + ["--recover"])
                #expect(recover.status == 0, "\(recover.stderr)")
                #expect(recover.stdout.contains("nothing"))
            }
        }
    }

    /// A → B under load with `--reverse`, the reverse stream into the fenced A, then B → A under
    /// load: every commit acknowledged through either cutover is on A at the end, and B is fenced.
    @Test func cuttingBackThroughTheReverseStreamLosesNothing() async throws {
        try await CutoverFixture.with { fixture in
            let reverseSlot = fixture.slot + "_reverse"
            let forward = try RunningCommand(fixture.streamArguments())
            defer { forward.signal(SIGKILL) }  // whatever happens to the test
            try await fixture.waitForStream()
            let clients = ClientLoad(try fixture.bouncer.client("app"))
            try await waitUntil("clients to write") { clients.acknowledgedSoFar > 50 }
            let there = try await CommandLineRun.run(fixture.cutoverArguments(["--max-pause", "10s", "--max-lag", "60s", "--reverse"]))
            #expect(there.status == 0, "\(there.stderr)")
            #expect(try Self.report(there).reverseSlot == reverseSlot)
            #expect(try await forward.finished().status == 0)

            let back = CutoverFixture(source: fixture.target, target: fixture.source, slot: reverseSlot, bouncer: fixture.bouncer,
                                      journal: fixture.journal + ".back")
            let reverse = try RunningCommand(back.streamArguments())
            defer { reverse.signal(SIGKILL) }  // whatever happens to the test
            try await back.waitForStream()
            let before = clients.acknowledgedSoFar
            try await waitUntil("clients to write on B") { clients.acknowledgedSoFar > before + 50 }
            let home = try await CommandLineRun.run(back.cutoverArguments(["--max-pause", "10s", "--max-lag", "60s"]))
            #expect(home.status == 0, "\(home.stderr)\nthe reverse stream's log:\n\(reverse.stderrSoFar)")
            let after = clients.acknowledgedSoFar
            try await waitUntil("clients to write on A again") { clients.acknowledgedSoFar > after + 50 }
            let (acknowledged, errors) = await clients.stop()
            #expect(try await reverse.finished().status == 0)
            #expect(errors.isEmpty, "client errors: \(errors.prefix(3))")
            let onA = try await CutoverFixture.orderIDs(fixture.source)
            #expect(acknowledged.subtracting(onA).isEmpty, "missing on A: \(acknowledged.subtracting(onA).sorted().prefix(5))")
            #expect(try await fixture.routedPort() == Int(fixture.source["port"] ?? ""))
            #expect(try await !CutoverFixture.readOnly(fixture.source))
            #expect(try await CutoverFixture.readOnly(fixture.target))
        }
    }

    /// A stream that stopped reporting (a stopped process) lags by at least as long: refused,
    /// exit 3, before anything changes. An admin console that does not answer: refused too.
    @Test func aStalledStreamOrAnUnreachableConsoleIsRefusedBeforeTheFence() async throws {
        try await CutoverFixture.with { fixture in
            let console = try await CommandLineRun.run(fixture.cutoverArguments().map {
                $0 == fixture.bouncer.admin.conninfo ? "host=127.0.0.1 port=1 user=postgres dbname=pgbouncer" : $0
            })
            #expect(console.status == 3, "\(console.stderr)")
            #expect(console.stderr.contains("console"), "\(console.stderr)")

            let stream = try RunningCommand(fixture.streamArguments())

            defer { stream.signal(SIGKILL) }  // whatever happens to the test
            try await fixture.waitForStream()
            stream.signal(SIGSTOP)
            try await waitUntil("the stream to be silent for a while", timeout: .seconds(30)) {
                try await withConnection(fixture.source) {
                    try await $0.query("""
                        SELECT coalesce(bool_or(clock_timestamp() - coalesce(r.reply_time, r.backend_start) > interval '6 seconds'), false)
                        FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = $1
                        """, [fixture.slot]).scalar(Bool.self)
                }
            }
            let stalled = try await CommandLineRun.run(fixture.cutoverArguments())
            #expect(stalled.status == 3, "\(stalled.stderr)")
            #expect(stalled.stderr.contains("--max-lag"), "\(stalled.stderr)")
            stream.signal(SIGCONT)
            stream.signal(SIGTERM)
            _ = try await stream.finished()
            #expect(try await fixture.routedPort() == Int(fixture.source["port"] ?? ""))
            #expect(try await !CutoverFixture.readOnly(fixture.source))
        }
    }

    /// The passive stops applying during the catch-up (its stream stopped just as the cutover
    /// began): at --max-pause the cutover rolls back by itself, exit 1, clients back on the old active.
    @Test func aCatchUpThatDoesNotFinishRollsBackAtMaxPause() async throws {
        try await CutoverFixture.with { fixture in
            let stream = try RunningCommand(fixture.streamArguments())
            defer { stream.signal(SIGKILL) }  // whatever happens to the test
            try await fixture.waitForStream()
            let client = try await Connection.connect(try fixture.bouncer.client("app"), options: .init(fixesSettings: false))
            _ = try await client.query("SELECT 1")
            stream.signal(SIGSTOP)
            let started = ContinuousClock.now
            let run = try await CommandLineRun.run(fixture.cutoverArguments(["--max-pause", "2s", "--max-lag", "60s"]))
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stderr.contains("--max-pause"), "\(run.stderr)")
            #expect(try Self.report(run).ending == "rolled-back")
            #expect(ContinuousClock.now - started < .seconds(15))
            let port = try await client.query("SELECT inet_server_port()").scalar(Int.self)
            await client.close()
            #expect(port == Int(fixture.source["port"] ?? ""))
            #expect(try await !CutoverFixture.readOnly(fixture.source))
            stream.signal(SIGCONT)
            stream.signal(SIGTERM)
            _ = try await stream.finished()
        }
    }
}
