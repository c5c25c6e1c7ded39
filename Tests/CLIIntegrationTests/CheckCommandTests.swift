import Foundation
import PostgresClient
import Testing
import TestSupport

@Suite struct CheckCommandTests {
    @Test func aHealthyPairExitsZero() async throws {
        let run = try await CommandLineRun.run(["check", "--source", TestBed.active.conninfo, "--target", TestBed.passive.conninfo])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("[ok]       source wal_level: wal_level is logical"))
        #expect(run.stdout.hasSuffix("ready: 16 ok, 0 warnings, 0 blocking\n"))
    }

    @Test func jsonIsOneDocumentOnStdout() async throws {
        let run = try await CommandLineRun.run(["check", "--json", "--source", TestBed.active.conninfo])
        #expect(run.status == 0)
        struct Report: Decodable {
            struct Finding: Decodable { let node, check, severity, message: String }
            let findings: [Finding]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8))
        #expect(report.findings.contains { $0.check == "wal_level" && $0.severity == "ok" })
    }

    @Test func walLevelReplicaExitsOne() async throws {
        let run = try await CommandLineRun.run(["check", "--source", TestBed.plain.conninfo])
        #expect(run.status == 1)
        #expect(run.stdout.contains("[blocking] source wal_level: wal_level is replica; streaming needs logical"))
    }

    @Test func aTableWithoutReplicaIdentityExitsOne() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE events (at timestamptz, what text)") }
            let run = try await CommandLineRun.run(["check", "--source", source.conninfo])
            #expect(run.status == 1)
            #expect(run.stdout.contains("replica_identity: no usable replica identity on 1 table: public.events"))
        }
    }

    @Test func aClosedPortFailsFastWithOneClearLine() async throws {
        // Fast: a refusal, not the 600 s connect timeout (loose bound for a loaded machine).
        let run = try await CommandLineRun.run(["check", "--source", "host=127.0.0.1 port=1 dbname=app connect_timeout=600"])
        #expect(run.status == 1)
        #expect(run.elapsed < .seconds(120))
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.first == "[blocking] source reachable: cannot connect to 127.0.0.1:1/app: connection refused")
        #expect(lines.count == 3)  // the finding, its fix, the verdict
    }

    @Test func anUnparsableDSNIsBadInputInTwoLines() async throws {
        let run = try await CommandLineRun.run(["check", "--source", "host=a port"])
        #expect(run.status == 2)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("continuity check: error: --source: cannot parse the connection string") == true)
    }

    @Test func aMissingOptionAndAnUnknownFlagAreBadInput() async throws {
        let missing = try await CommandLineRun.run(["check"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("missing --source"))
        let unknown = try await CommandLineRun.run(["check", "--no-such-flag"])
        #expect(unknown.status == 2)
    }

    @Test func anUnknownDatabaseIsBadInput() async throws {
        let run = try await CommandLineRun.run(["check", "--source", TestBed.active.database("no_such_db").conninfo])
        #expect(run.status == 2)
        #expect(run.stdout.contains("database \"no_such_db\" does not exist"))
    }

    @Test func theSourceCanComeFromTheEnvironmentOrTheConfigFile() async throws {
        let fromEnvironment = try await CommandLineRun.run(["check"], environment: ["CONTINUITY_SOURCE": TestBed.active.conninfo])
        #expect(fromEnvironment.status == 0)

        let config = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: config) }
        try "source: \"\(TestBed.plain.conninfo)\"\n".write(to: config, atomically: true, encoding: .utf8)
        let fromFile = try await CommandLineRun.run(["check", "--config", config.path])
        #expect(fromFile.status == 1)  // the plain server: proves the file was read
        let flagWins = try await CommandLineRun.run(["check", "--config", config.path, "--source", TestBed.active.conninfo])
        #expect(flagWins.status == 0)
        let variableBeatsFile = try await CommandLineRun.run(["check", "--config", config.path],
                                                       environment: ["CONTINUITY_SOURCE": TestBed.active.conninfo])
        #expect(variableBeatsFile.status == 0)
    }

    @Test func aPasswordNeverReachesTheOutput() async throws {
        let secret = "Sup3rSecretPw"
        let dsn = try TestBed.active.setting("password", to: secret).conninfo
        let run = try await CommandLineRun.run(["check", "--json", "--source", dsn])
        #expect(run.status == 2)  // wrong password
        #expect(run.stderr.contains("contains a password"))
        #expect(!run.stdout.contains(secret) && !run.stderr.contains(secret))
    }

    @Test func thePasswordSettingIsUsedFromTheEnvironment() async throws {
        let run = try await CommandLineRun.run(["check", "--source", TestBed.active.conninfo],
                                         environment: ["CONTINUITY_SOURCE_PASSWORD": "wrong-password", "PGPASSFILE": "/dev/null"])
        #expect(run.status == 2)
        #expect(run.stdout.contains("password authentication failed"))
        #expect(!run.stdout.contains("wrong-password") && !run.stderr.contains("wrong-password"))
    }
}

@Suite struct CommandSurfaceTests {
    @Test func helpListsEveryCommandOfTheDesign() async throws {
        let run = try await CommandLineRun.run(["--help"])
        #expect(run.status == 0)
        for command in ["check", "snapshot", "restore", "snapshots", "stream", "cutover", "hook", "config", "drill", "agent"] {
            #expect(run.stdout.contains("\n  \(command) "), "missing \(command)")
        }
    }

    @Test(arguments: [["drill"]])
    func pendingCommandsSaySoAndExitOne(_ arguments: [String]) async throws {
        let run = try await CommandLineRun.run(arguments)
        #expect(run.status == 1)
        #expect(run.stderr.contains("is not built yet"))
    }

    @Test func errorsAreJSONToo() async throws {
        let run = try await CommandLineRun.run(["cutover", "--json"])
        #expect(run.status == 2)
        let document = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let error = document?["error"] as? [String: Any]
        #expect(error?["exit_status"] as? Int == 2)
        #expect((error?["problem"] as? String)?.contains("--source") == true)
    }
}
