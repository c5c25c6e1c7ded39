import Foundation
import Parallelism

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

    /// `environment` is added to this process's own, with the test bed's PGPASSFILE. Waits
    /// without holding a thread of the cooperative pool, so tests running meanwhile are not starved.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandLineRun {
        try await RunningCommand(arguments, environment: environment).finished()
    }
}

/// A `continuity` process still running: for tests that signal it (SIGTERM, SIGKILL).
public final class RunningCommand: Sendable {
    private let process: ChildProcess
    private let directory: URL
    private let started = ContinuousClock.now

    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CONTINUITY_") || $0.key.hasPrefix("CONTINUITY_TEST") }
        if let passfile = TestBed.settings["PGPASSFILE"] { merged["PGPASSFILE"] = passfile }
        merged.merge(environment) { $1 }
        // Files, not pipes: a chatty child cannot fill a pipe and block while we wait for it.
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-run-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process = try ChildProcess(executable: CommandLineRun.executable.path, arguments: arguments, environment: merged,
                                   standardOutput: .file(directory.appendingPathComponent("stdout").path),
                                   standardError: .file(directory.appendingPathComponent("stderr").path))
    }

    /// A test that failed before `finished` leaves neither the process nor its files behind.
    deinit {
        process.signal(SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }

    public func signal(_ number: Int32) { process.signal(number) }

    public var isRunning: Bool { process.isRunning }

    /// Throws, with what the command said, once it has ended: for a wait on something it
    /// should reach while running, which would otherwise wait out its whole deadline.
    public func requireRunning() throws {
        guard isRunning else { throw CommandEnded(stderr: stderrSoFar) }
    }

    /// What the command has written to stderr so far (its log).
    public var stderrSoFar: String {
        (try? String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
    }

    /// Waits without holding a thread of the cooperative pool. A command a signal ended has
    /// status 128 + the signal's number.
    public func finished() async throws -> CommandLineRun {
        let status = await process.exited()
        defer { try? FileManager.default.removeItem(at: directory) }
        return CommandLineRun(status: status,
                              stdout: try String(contentsOf: directory.appendingPathComponent("stdout"), encoding: .utf8),
                              stderr: try String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8),
                              elapsed: ContinuousClock.now - started)
    }
}

public struct CommandEnded: Error, CustomStringConvertible {
    public let stderr: String
    public var description: String { "the command ended early: \(stderr)" }
}
