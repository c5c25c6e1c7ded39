import Foundation
import Parallelism
import Testing

@Suite struct ChildProcessTests {
    static func shell(_ script: String, environment: [String: String] = [:],
                      stdout: ChildProcess.Output = .capture, stderr: ChildProcess.Output = .capture) throws -> ChildProcess {
        try ChildProcess(executable: "/bin/sh", arguments: ["-c", script], environment: environment,
                         standardOutput: stdout, standardError: stderr)
    }

    @Test func exitStatusAndBothOutputsAreKept() async throws {
        let child = try Self.shell("echo out; echo err >&2; exit 3")
        #expect(await child.exited() == 3)
        #expect(child.waitForExit() == 3)
        #expect(String(decoding: child.captured(1), as: UTF8.self) == "out\n")
        #expect(String(decoding: child.captured(2), as: UTF8.self) == "err\n")
        #expect(!child.isRunning)
    }

    @Test func aSignalledChildReports128PlusTheSignal() async throws {
        let child = try Self.shell("exec sleep 60")
        #expect(child.isRunning)
        child.signal(SIGKILL)
        #expect(await child.exited() == 128 + SIGKILL)
    }

    /// A signal sent the instant the child exists: blocked ones wait (here until it exits,
    /// unhandled), the rest end it as usual.
    @Test func blockedSignalsCannotEndAChildBeforeItsCodeRuns() async throws {
        for (blocked, expected) in [([SIGTERM, SIGHUP], Int32(0)), ([], 128 + SIGTERM)] {
            let child = try ChildProcess(executable: "/bin/sleep", arguments: ["0.3"], environment: [:], blockedSignals: blocked)
            child.signal(SIGTERM)
            #expect(await child.exited() == expected, "blocked: \(blocked)")
        }
    }

    /// Far more than a pipe holds, on both outputs at once: neither blocks the child.
    @Test func aChattyChildCannotBlockOnAFullPipe() async throws {
        let child = try Self.shell("head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2")
        #expect(await child.exited() == 0)
        #expect(child.captured(1).count == 3_000_000)
        #expect(child.captured(2).count == 3_000_000)
    }

    @Test func theChildGetsExactlyTheEnvironmentGivenAndNoOtherDescriptor() async throws {
        let stray = open("/dev/null", O_RDONLY)  // without close-on-exec
        defer { close(stray) }
        let child = try Self.shell("echo \"$ONLY\"; env | wc -l; ls /proc/$$/fd | wc -l", environment: ["ONLY": "this"])
        #expect(await child.exited() == 0)
        let lines = String(decoding: child.captured(1), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.first == "this")
        #expect(Int(lines.dropFirst().first?.trimmingCharacters(in: .whitespaces) ?? "") ?? 99 <= 3)  // ONLY, and sh's PWD/SHLVL
        #expect(lines.last?.trimmingCharacters(in: .whitespaces) == "3")  // stdin, stdout, stderr
    }

    @Test func aPipeIsReadAsTheChildWrites() throws {
        let child = try Self.shell("printf 'a%.0s' $(seq 1 100000)", stdout: .pipe)
        let data = try child.standardOutput?.readToEnd() ?? Data()
        #expect(child.waitForExit() == 0)
        #expect(data.count == 100_000)
    }

    @Test func aMissingProgramIsAnErrorNotACrash() {
        #expect(throws: ChildProcessFailed.self) { try ChildProcess(executable: "/nonexistent/program", arguments: [], environment: [:]) }
    }
}
