import Foundation
import Logging
import OperatorErrors
import Parallelism

/// The stack's `lifecycle_command`, for an AWS Auto Scaling lifecycle hook without an SDK: run
/// with CONTINUITY_LIFECYCLE_ACTION=heartbeat while pre-destroy works (so the instance is not
/// terminated meanwhile) and =complete with CONTINUITY_LIFECYCLE_RESULT=CONTINUE once the
/// snapshot is verified. On failure no complete is sent: the hook's own timeout and default
/// result then decide, as AWS documents. It gets this process's environment (credentials,
/// instance id) plus those variables and CONTINUITY_STACK; it is run directly, not by a shell.
struct LifecycleCommand: Sendable {
    let path: String
    let stack: String
    /// AWS's shortest heartbeat timeout is 30 s; every 20 s keeps well inside any of them.
    static let heartbeatInterval: Duration = .seconds(20)

    func run(_ action: String) async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CONTINUITY_LIFECYCLE_ACTION"] = action
        environment["CONTINUITY_LIFECYCLE_RESULT"] = "CONTINUE"
        environment["CONTINUITY_STACK"] = stack
        let process: ChildProcess
        do {
            process = try ChildProcess(executable: path, arguments: [action], environment: environment,
                                       standardOutput: .discard, standardError: .capture)
        } catch {
            throw Failure("the lifecycle command \(path) could not be started: \(error)", fix: "check lifecycle_command in the config file")
        }
        let status = await process.exited()
        guard status == 0 else {
            let said = String(decoding: process.captured(2), as: UTF8.self)
                .split(whereSeparator: \.isNewline).last.map { ": \($0)" } ?? ""
            throw Failure("the lifecycle command \(path) \(action) exited \(status)\(said)")
        }
    }

    /// Heartbeats until cancelled; a failed one is logged, not fatal: the snapshot matters more.
    func heartbeats(logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await run("heartbeat")
            } catch let error as any OperatorError {
                logger.warning("\(error.problem)")
            } catch {
                logger.warning("lifecycle heartbeat failed: \(error)")
            }
            try? await Task.sleep(for: Self.heartbeatInterval)
        }
    }
}
