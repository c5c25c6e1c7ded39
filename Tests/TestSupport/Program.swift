import Parallelism

/// What a program run to its end said: posix_spawn and waitpid (`ChildProcess`), not
/// Foundation's Process, whose waitUntilExit was seen to hang here after the child had exited.
public struct ProgramRun: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// Runs `executable` with a bare PATH, waiting without holding a thread of the cooperative pool.
    public static func run(_ executable: String, _ arguments: [String]) async throws -> ProgramRun {
        let child = try ChildProcess(executable: executable, arguments: arguments,
                                     environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
                                     standardOutput: .capture, standardError: .capture)
        let status = await child.exited()
        return ProgramRun(status: status, stdout: String(decoding: child.captured(1), as: UTF8.self),
                          stderr: String(decoding: child.captured(2), as: UTF8.self))
    }
}
