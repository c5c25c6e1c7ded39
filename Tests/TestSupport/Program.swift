import Parallelism

/// What a program run to its end said: posix_spawn and waitpid (`ChildProcess`), not
/// Foundation's Process, whose waitUntilExit was seen to hang here after the child had exited.
public struct ProgramRun: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// Runs `executable` (by default with a bare PATH and nothing else in its environment),
    /// waiting without holding a thread of the cooperative pool.
    public static func run(_ executable: String, _ arguments: [String],
                           environment: [String: String] = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]) async throws -> ProgramRun {
        let child = try ChildProcess(executable: executable, arguments: arguments, environment: environment,
                                     standardOutput: .capture, standardError: .capture)
        let status = await child.exited()
        return ProgramRun(status: status, stdout: String(decoding: child.captured(1), as: UTF8.self),
                          stderr: String(decoding: child.captured(2), as: UTF8.self))
    }
}

/// Runs CPU-heavy test work (generating random cases) on a thread of its own and awaits it:
/// the cooperative pool has as many threads as cores (two here), and seconds of debug-build
/// CPU on them stall the in-process streams of every test running meanwhile.
/// Parallelism's `Blocking.run`, for work that cannot fail.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    try! await Blocking.run(work)  // `work` does not throw
}
