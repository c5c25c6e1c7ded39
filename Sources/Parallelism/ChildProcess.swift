import CSpawn
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child program (pg_dump, or `continuity` itself in tests), started with posix_spawn and
/// reaped by a thread of its own that blocks in waitpid for exactly this pid. Not Foundation's
/// `Process`: its exit is noticed through a process-wide SIGCHLD monitor, and here
/// `waitUntilExit` was seen to hang after the child had exited; a snapshot must never hang on
/// a pg_dump that has finished.
public final class ChildProcess: Sendable {
    public enum Output: Sendable {
        /// Read it as the child writes: `standardOutput` / `standardError`.
        case pipe
        /// Kept in memory as the child writes it (on a thread of its own, so a chatty child
        /// cannot fill a pipe and block); `captured` has it once the child has exited.
        case capture
        case file(String)
        case discard
    }

    public let pid: pid_t
    /// The read end, for `.pipe`.
    public let standardOutput: FileHandle?
    public let standardError: FileHandle?
    private let state = Mutex(State())
    /// Signalled by the reaper once the child has exited and every capture is complete.
    private let finished = DispatchSemaphore(value: 0)
    /// Signalled by each capturing thread at its pipe's end; only the reaper waits on it.
    private let captureDone = DispatchSemaphore(value: 0)

    private struct State {
        /// Set as soon as waitpid returned: the pid may then belong to another process.
        var reaped = false
        var status: Int32?
        var captured: [Int32: Data] = [:]
        var waiters: [CheckedContinuation<Int32, Never>] = []
    }

    /// `executable` is an absolute path; the child gets exactly `environment`, stdin from
    /// /dev/null (or `standardInput`'s bytes, then end of file), default signal handling and an
    /// empty signal mask (whatever this process ignores or blocks, such as SIGTERM while it
    /// handles it itself), and no other descriptor. `newSession`: the child leads a session of
    /// its own, so a signal to this process's group (Ctrl-C) does not reach it.
    /// `blockedSignals` start blocked in the child instead (pending, not acted on), for a child
    /// that must not die of them even before its own code has run.
    public init(executable: String, arguments: [String], environment: [String: String],
                standardInput: [UInt8]? = nil, newSession: Bool = false, blockedSignals: [Int32] = [],
                standardOutput: Output = .discard, standardError: Output = .discard) throws {
        Self.reapOurOwnChildren
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var readEnds: [Int32: Int32] = [:], writeEnds: [Int32] = []
        defer { writeEnds.forEach { close($0) } }
        var input: (read: Int32, write: Int32)?
        if let standardInput {
            // Small (a few kilobytes at most): it fits the pipe's buffer, so writing it before
            // the child reads cannot block.
            var ends: [Int32] = [0, 0]
            guard standardInput.count <= 16384, cspawn_pipe_cloexec(&ends) == 0 else {
                throw ChildProcessFailed(program: executable, reason: "cannot pass \(standardInput.count) bytes on standard input")
            }
            input = (ends[0], ends[1])
            posix_spawn_file_actions_adddup2(&actions, ends[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        defer { if let input { close(input.read) } }
        for (descriptor, output) in [(Int32(1), standardOutput), (2, standardError)] {
            switch output {
            case .pipe, .capture:
                var ends: [Int32] = [0, 0]
                guard cspawn_pipe_cloexec(&ends) == 0 else {
                    readEnds.values.forEach { close($0) }
                    if let input { close(input.write) }
                    throw ChildProcessFailed(program: executable, reason: String(cString: strerror(errno)))
                }
                readEnds[descriptor] = ends[0]
                writeEnds.append(ends[1])
                posix_spawn_file_actions_adddup2(&actions, ends[1], descriptor)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .discard:
                posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0)
            }
        }
        cspawn_close_from(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var blocked = sigset_t(), all = sigset_t()
        sigemptyset(&blocked)
        blockedSignals.forEach { sigaddset(&blocked, $0) }
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &blocked)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (newSession ? Int32(cspawn_setsid_flag()) : 0)))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            readEnds.values.forEach { close($0) }
            if let input { close(input.write) }
            throw ChildProcessFailed(program: executable, reason: String(cString: strerror(spawned)))
        }
        self.pid = pid
        if let input, let standardInput {
            _ = standardInput.withUnsafeBytes { write(input.write, $0.baseAddress, $0.count) }
            close(input.write)
        }

        func handle(_ descriptor: Int32, _ output: Output) -> FileHandle? {
            guard case .pipe = output, let end = readEnds[descriptor] else { return nil }
            return FileHandle(fileDescriptor: end, closeOnDealloc: true)
        }
        self.standardOutput = handle(1, standardOutput)
        self.standardError = handle(2, standardError)
        let capturing = [(Int32(1), standardOutput), (2, standardError)].compactMap { descriptor, output -> (Int32, Int32)? in
            guard case .capture = output, let end = readEnds[descriptor] else { return nil }
            return (descriptor, end)
        }
        for (descriptor, end) in capturing { startCapture(descriptor, from: end) }
        startReaper(captures: capturing.count)
    }

    /// With SIGCHLD ignored (a parent can leave it so across exec) the kernel reaps children
    /// itself and waitpid cannot tell how one ended; continuity never wants that.
    private static let reapOurOwnChildren: Void = cspawn_default_sigchld_if_ignored()

    /// Exit code, or 128 + the signal's number for a child a signal ended (as shells report it),
    /// or -1 when how it ended could not be learnt (never taken for success).
    public var exitStatus: Int32? { state.withLock { $0.status } }

    public var isRunning: Bool { state.withLock { !$0.reaped } }

    public func signal(_ number: Int32) {
        state.withLock { if !$0.reaped { kill(pid, number) } }
    }

    /// Blocks until the child has exited (and what it wrote is captured): only off the cooperative pool.
    @discardableResult
    public func waitForExit() -> Int32 {
        finished.wait()
        finished.signal()  // later callers pass at once
        return exitStatus ?? -1
    }

    /// Awaits the child's exit without holding a thread of the cooperative pool.
    public func exited() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status: Int32? = state.withLock { state in
                if state.status == nil { state.waiters.append(continuation) }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// What a `.capture` output received; complete once `waitForExit` returned.
    public func captured(_ descriptor: Int32) -> Data {
        state.withLock { $0.captured[descriptor] ?? Data() }
    }

    private func startReaper(captures: Int) {
        Thread { [self] in
            var raw: Int32 = 0
            var waited = waitpid(pid, &raw, 0)
            while waited == -1, errno == EINTR { waited = waitpid(pid, &raw, 0) }
            state.withLock { $0.reaped = true }
            let signalled = raw & 0x7f
            let status = waited == -1 ? -1 : signalled == 0 ? (raw >> 8) & 0xff : 128 + signalled
            // Captures first: `exited()` promises what the child wrote is all there.
            for _ in 0..<captures { captureDone.wait() }
            let waiters = state.withLock { state in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            }
            finished.signal()
            waiters.forEach { $0.resume(returning: status) }
        }.start()
    }

    private func startCapture(_ descriptor: Int32, from end: Int32) {
        Thread { [self] in
            let handle = FileHandle(fileDescriptor: end, closeOnDealloc: true)
            let data = (try? handle.readToEnd()) ?? Data()
            state.withLock { $0.captured[descriptor] = data }
            captureDone.signal()
        }.start()
    }
}

public struct ChildProcessFailed: Error, CustomStringConvertible {
    public let program: String
    public let reason: String
    public var description: String { "could not start \(program): \(reason)" }
}
