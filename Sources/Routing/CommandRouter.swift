import Foundation
import OperatorErrors
import Parallelism
import Synchronization

/// The operator's own router (DNS, HAProxy, a cloud load balancer): an executable run once per
/// phase with `CONTINUITY_CUTOVER_PHASE=pause|repoint|resume|rollback` and both nodes' host,
/// port and dbname in its environment (plus PATH and HOME; nothing else of ours, so no
/// password). A non-zero exit fails the phase, naming the last line it wrote to stderr.
/// No phase runs unbounded: one still running after `phaseLimit` (the pause: at its deadline)
/// is killed and fails, so a hung script cannot hang a cutover or its watchdog for good.
struct CommandRouter: Router {
    let path: String
    let from: RouterNode
    let to: RouterNode
    var phaseLimit: Duration = .seconds(60)

    var description: String { "command \(path)" }

    func preflight() async -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return ["the router command \(path) does not exist"]
        }
        guard access(path, X_OK) == 0 else {
            return ["the router command \(path) is not executable (chmod +x it)"]
        }
        return []
    }

    /// The pause must end by `deadline`: a command still running then is killed and fails.
    func pause(deadline: ContinuousClock.Instant) async throws {
        try await run("pause", deadline: deadline)
    }

    func repoint() async throws { try await run("repoint") }

    func resume() async throws { try await run("resume") }

    func rollBack() async throws { try await run("rollback") }

    var environment: [String: String] {
        var environment = [
            "CONTINUITY_CUTOVER_PHASE": "",
            "CONTINUITY_OLD_HOST": from.host, "CONTINUITY_OLD_PORT": String(from.port), "CONTINUITY_OLD_DBNAME": from.dbname,
            "CONTINUITY_NEW_HOST": to.host, "CONTINUITY_NEW_PORT": String(to.port), "CONTINUITY_NEW_DBNAME": to.dbname,
        ]
        let ours = ProcessInfo.processInfo.environment
        for key in ["PATH", "HOME"] { environment[key] = ours[key] }
        return environment
    }

    private func run(_ phase: String, deadline: ContinuousClock.Instant? = nil) async throws {
        var environment = environment
        environment["CONTINUITY_CUTOVER_PHASE"] = phase
        let child: ChildProcess
        do {
            child = try ChildProcess(executable: path, arguments: [], environment: environment, standardError: .capture)
        } catch {
            throw Failure("the router command \(path) could not start for phase \(phase): \(error)",
                          fix: "check that it exists and is executable")
        }
        let status = await Self.exitStatus(of: child, by: deadline ?? .now + phaseLimit)
        guard let status else {
            // Too late: a phase that has not finished must not finish later on its own.
            child.signal(SIGKILL)
            throw Failure("the router command \(path) did not finish phase \(phase) by its deadline, so it was killed",
                          fix: phase == "pause" ? "make the command's pause phase faster, or allow a longer pause"
                              : "make the command's \(phase) phase finish within \(phaseLimit.components.seconds) s")
        }
        guard status == 0 else {
            throw Failure("the router command \(path) failed in phase \(phase) (exit \(status))\(lastLine(child))",
                          fix: "see what the command reports; it is run again with the same phase on a retry")
        }
    }

    /// The child's exit status, or nil when `deadline` comes first. Not a task group: that
    /// would wait for the child's end anyway, which a grandchild holding stderr can delay.
    private static func exitStatus(of child: ChildProcess, by deadline: ContinuousClock.Instant) async -> Int32? {
        let once = Once()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
            @Sendable func finish(_ status: Int32?) {
                if once.claim() { continuation.resume(returning: status) }
            }
            Task { finish(await child.exited()) }
            Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                finish(nil)
            }
        }
    }

    private func lastLine(_ child: ChildProcess) -> String {
        let text = String(decoding: child.captured(2), as: UTF8.self)
        guard let line = text.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) }) else { return "" }
        return ": \(line.prefix(300))"
    }
}

/// True for the first caller only.
private final class Once: Sendable {
    private let claimed = Mutex(false)

    func claim() -> Bool {
        claimed.withLock { claimed in
            defer { claimed = true }
            return !claimed
        }
    }
}
