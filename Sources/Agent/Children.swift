import Foundation
import Logging
import Parallelism
import ServiceLifecycle
import Synchronization

/// What a child `continuity` left: its exit status and what it printed on stdout (with
/// `--json`, its report or its error as one JSON document).
public struct ChildResult: Sendable {
    public let status: Int32
    public let output: Data
}

/// Every operation is the `continuity` binary itself, run as a child process with the agent's
/// config file and `--json`: a crash or memory growth in one operation never takes the agent
/// down, the agent stays small, and an HTTP operation returns exactly the command's report. The
/// stack goes in CONTINUITY_STACK (which every command reads, with or without a --stack
/// flag); secrets stay where the config file puts them, read by the child, never in argv.
/// The children's logs go to the agent's stderr as they come.
final class Children: Sendable {
    let executable: String
    let configPath: String
    private let environment: [String: String]
    private let state = Mutex(State())

    private struct State {
        var running: [Int32: Running] = [:]
        var stopping = false
    }

    private struct Running {
        let child: ChildProcess
        let stack: String
        let arguments: [String]
    }

    init(executable: String, configPath: String, environment: [String: String]) {
        self.executable = executable
        self.configPath = configPath
        self.environment = environment
    }

    /// Starts `continuity ARGUMENTS --config FILE --json` for the stack; nil once the agent is
    /// stopping (nothing new starts then).
    func start(_ arguments: [String], stack: String) throws -> ChildProcess? {
        try state.withLock { state in
            guard !state.stopping else { return nil }
            var environment = environment
            environment["CONTINUITY_STACK"] = stack
            let child = try ChildProcess(executable: executable, arguments: arguments + ["--config", configPath, "--json"],
                                         environment: environment, newSession: true,
                                         standardOutput: .capture, standardError: .pipe)
            state.running[child.pid] = Running(child: child, stack: stack, arguments: arguments)
            if let errors = child.standardError { Self.forward(errors) }
            return child
        }
    }

    /// Runs one to its end; nil once the agent is stopping.
    func run(_ arguments: [String], stack: String) async throws -> ChildResult? {
        guard let child = try start(arguments, stack: stack) else { return nil }
        return await finish(child)
    }

    /// Awaits a started child's end, and forgets it.
    func finish(_ child: ChildProcess) async -> ChildResult {
        let status = await child.exited()
        _ = state.withLock { $0.running.removeValue(forKey: child.pid) }
        return ChildResult(status: status, output: child.captured(1))
    }

    var count: Int { state.withLock { $0.running.count } }

    /// Whether a child with these arguments runs for the stack now (the stream, for its metric).
    func runs(_ arguments: [String], stack: String) -> Bool {
        state.withLock { $0.running.values.contains { $0.stack == stack && $0.arguments == arguments } }
    }

    /// A cutover is never signalled: killed mid-pause, it would leave clients paused until its
    /// watchdog rolls back. It ends on its own, bounded by its --max-pause once the pause began.
    static func finishesOnStop(_ arguments: [String]) -> Bool {
        arguments.first == "cutover"
    }

    /// On shutdown: nothing new starts, a running cutover is waited for (`finishesOnStop`),
    /// then every other child gets SIGTERM (a snapshot then removes what it wrote and leaves no
    /// manifest; the stream stops after what is in flight), and this returns once all have exited.
    func stopAll(logger: Logger) async {
        let running = state.withLock { state in
            state.stopping = true
            return Array(state.running.values)
        }
        for running in running where Self.finishesOnStop(running.arguments) {
            logger.notice("stopping: waiting for the cutover of stack \(running.stack) (pid \(running.child.pid)) to finish first")
            _ = await running.child.exited()
        }
        for running in running where !Self.finishesOnStop(running.arguments) { running.child.signal(SIGTERM) }
        for running in running { _ = await running.child.exited() }
    }

    /// Copies a child's stderr to ours on a thread of its own (it blocks in read).
    private static func forward(_ handle: FileHandle) {
        Thread {
            while let data = try? handle.read(upToCount: 65536), !data.isEmpty {
                FileHandle.standardError.write(data)
            }
        }.start()
    }
}

/// The last service of the group, so the first one told to stop: it stops the children
/// before the schedulers, supervisors and the HTTP server wind down around them.
struct ChildrenStopper: Service {
    let children: Children
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        await children.stopAll(logger: logger)
    }
}
