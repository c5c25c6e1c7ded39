import Foundation
import Testing
import TestSupport

let systemdAnalyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// hooks/systemd through `systemd-analyze verify`, with ExecStart pointed at the built
/// executable (verify checks that it exists). Skipped, saying so, where systemd-analyze is missing.
@Suite(.enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed on this machine"))
struct SystemdTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theUnitsVerifyCleanly() async throws {
        let executable = CommandLineRun.executable.path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-systemd-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A template is verified as one of its instances.
        let units = [("continuity-agent.service", "continuity-agent.service"),
                     ("continuity-snapshot@.service", "continuity-snapshot@orders-db.service"),
                     ("continuity-snapshot@.timer", "continuity-snapshot@orders-db.timer")]
        for (source, instance) in units {
            let text = try String(contentsOf: Self.root.appendingPathComponent("hooks/systemd/\(source)"), encoding: .utf8)
            #expect(text.contains("/usr/local/bin/continuity") || source.hasSuffix(".timer"))
            try text.replacingOccurrences(of: "/usr/local/bin/continuity", with: executable)
                .write(toFile: "\(directory)/\(instance)", atomically: true, encoding: .utf8)
        }
        let run = try await ProgramRun.run(systemdAnalyze ?? "", ["verify", "--man=no"] + units.map { "\(directory)/\($0.1)" })
        let said = run.stdout + run.stderr
        #expect(run.status == 0, "\(said)")
        // Unknown keys are only warned about, with status 0: any word from it is a finding.
        #expect(said.isEmpty, "\(said)")
    }
}

/// The agent's unit, read as text (no systemd needed): shutdown lets a cutover finish, and a
/// cutover's relative journal lands somewhere writable.
@Suite struct SystemdAgentUnitTests {
    func settings() throws -> [String: String] {
        let text = try String(contentsOf: SystemdTests.root.appendingPathComponent("hooks/systemd/continuity-agent.service"), encoding: .utf8)
        var settings: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            settings[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return settings
    }

    @Test func shutdownSignalsTheAgentOnlyAndWaitsLongerThanACutover() throws {
        let unit = try settings()
        // SIGTERM to the agent alone: a cutover's watchdog is not signalled with it.
        #expect(unit["KillMode"] == "mixed")
        // Seconds: a cutover's catch-up, a long --max-pause (a minute) and the settling after it.
        let timeout = try #require(unit["TimeoutStopSec"].flatMap { Int($0) })
        #expect(timeout >= 180)
    }

    @Test func theWorkingDirectoryIsTheWritableStateDirectory() throws {
        let unit = try settings()
        #expect(unit["ProtectSystem"] == "strict")
        let state = try #require(unit["StateDirectory"])
        #expect(unit["WorkingDirectory"] == "/var/lib/\(state)")
    }
}
