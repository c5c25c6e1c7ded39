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

    /// `environment` is added to this process's own, with the test bed's PGPASSFILE. Waits
    /// without holding a thread of the cooperative pool, so tests running meanwhile are not starved.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandLineRun {
        try await RunningCommand(arguments, environment: environment).finished()
    }
}

/// A `continuity` process still running: for tests that signal it (SIGTERM, SIGKILL).
public final class RunningCommand: @unchecked Sendable {
    private let process = Process()
    private let directory: URL
    private let started = ContinuousClock.now
    private let exited = AsyncStream<Void>.makeStream()

    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = CommandLineRun.executable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CONTINUITY_") || $0.key.hasPrefix("CONTINUITY_TEST") }
        if let passfile = TestBed.settings["PGPASSFILE"] { merged["PGPASSFILE"] = passfile }
        merged.merge(environment) { $1 }
        process.environment = merged
        // Files, not pipes: a chatty child cannot fill a pipe and block while we wait for it.
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-run-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["stdout", "stderr"] { try Data().write(to: directory.appendingPathComponent(name)) }
        let output = try FileHandle(forWritingTo: directory.appendingPathComponent("stdout"))
        let errors = try FileHandle(forWritingTo: directory.appendingPathComponent("stderr"))
        process.standardOutput = output
        process.standardError = errors
        let continuation = exited.continuation
        process.terminationHandler = { _ in continuation.yield(); continuation.finish() }
        // The child has its own copies; ours would stay open as long as Foundation keeps the
        // Process (a large differential run ran out of descriptors, and Process.run crashed).
        defer {
            try? output.close()
            try? errors.close()
        }
        try process.run()
    }

    /// A test that failed before `finished` leaves neither the process nor its files behind.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    public var isRunning: Bool { process.isRunning }

    /// What the command has written to stderr so far (its log).
    public var stderrSoFar: String {
        (try? String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
    }

    public func finished() async throws -> CommandLineRun {
        for await _ in exited.stream {}
        defer { try? FileManager.default.removeItem(at: directory) }
        return CommandLineRun(status: process.terminationStatus,
                              stdout: try String(contentsOf: directory.appendingPathComponent("stdout"), encoding: .utf8),
                              stderr: try String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8),
                              elapsed: ContinuousClock.now - started)
    }
}
