import Foundation

/// Runs the built `continuity` executable as an operator would, and captures what it said.
public struct CommandLineRun: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public let elapsed: Duration

    /// The executable next to the test bundle (both live in the build's products directory).
    public static let executable: URL = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("continuity")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            directory.deleteLastPathComponent()
        }
        return TestBed.checkoutRoot.appendingPathComponent(".build/debug/continuity")
    }()

    /// `environment` is added to this process's own, with the test bed's PGPASSFILE.
    /// Waits without holding a thread of the cooperative pool, so tests running meanwhile are not starved.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandLineRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CONTINUITY_") || $0.key.hasPrefix("CONTINUITY_TEST") }
        if let passfile = TestBed.settings["PGPASSFILE"] { merged["PGPASSFILE"] = passfile }
        merged.merge(environment) { $1 }
        process.environment = merged
        // Files, not pipes: a chatty child cannot fill a pipe and block while we wait for it.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-run-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
        for file in [out, err] { try Data().write(to: file) }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let started = ContinuousClock.now
        var launchError: (any Error)?
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            process.terminationHandler = { _ in finished.resume() }
            do { try process.run() } catch { launchError = error; finished.resume() }
        }
        if let launchError { throw launchError }
        return CommandLineRun(status: process.terminationStatus,
                              stdout: try String(contentsOf: out, encoding: .utf8),
                              stderr: try String(contentsOf: err, encoding: .utf8),
                              elapsed: ContinuousClock.now - started)
    }
}
