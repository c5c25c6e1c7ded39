import ContinuityConfig
import Fencing
import Foundation
import Logging
import OperatorErrors
import Parallelism
import ProgressDisplay
import SnapshotCatalog
import SnapshotFormat
import Snapshotting

/// `hook pre-destroy`: fence the source, snapshot it, read the manifest back from the store
/// and re-read every object against it, all within the deadline. Any doubt is an error, so
/// the destroy that called it is blocked. There is no state of its own to recover: a re-run
/// after a crash puts the fence up again (both fences tolerate being up already) and takes a
/// new snapshot; what a crashed run wrote has no manifest, so it is not a snapshot and
/// `snapshots prune` removes it.
public enum PreDestroyHook {
    public struct Report: Encodable, Sendable {
        public let stack: String
        public let snapshotId: String
        public let store: String
        public let lsn: String
        public let fence: String
        public let tables: Int
        public let rows: Int64
        public let storedBytes: Int64
        /// Objects re-read from the store and found as the manifest says.
        public let verifiedObjects: Int
        /// "completed" when the lifecycle command was told to continue; nil without one.
        public let lifecycle: String?
        public let seconds: Double

        public var text: String {
            """
            \(snapshotId)
            pre-destroy of stack \(stack): fenced (\(fence)), snapshot \(snapshotId) at LSN \(lsn) in \(store), \
            \(tables) tables, \(rows) rows, \(verifiedObjects) objects verified, \(String(format: "%.1f", seconds)) s
            """ + (lifecycle.map { "\nlifecycle action \($0)" } ?? "")
        }
    }

    public static func run(_ stack: HookStack, deadline: Duration, jobs: Int, toolVersion: String,
                           logger: Logger) async throws -> Report {
        let config = stack.config
        let source = try stack.source()
        let fence = try Fence(parsing: config.fence, pgbouncerAdmin: try stack.pgbouncerAdmin())
        var options = SnapshotOptions(source: source, store: stack.store, stack: config.name, jobs: config.jobs ?? jobs,
                                      codec: config.compression, toolVersion: toolVersion)
        options.fence = fence
        let lifecycle = config.lifecycleCommand.map { LifecycleCommand(path: $0, stack: config.name) }
        let heartbeats = lifecycle.map { command in Task { await command.heartbeats(logger: logger) } }
        defer { heartbeats?.cancel() }

        let started = ContinuousClock.now
        let (manifest, verified) = try await withDeadline(deadline, doing: "pre-destroy of stack \(config.name)") { [options] in
            let taken = try await SnapshotRunner.take(options, logger: logger)
            logger.info("snapshot \(taken.id) written; reading it back from \(stack.store.location)")
            return try await verify(taken, stack: stack)
        }
        // The last heartbeat ends before complete is sent, so the two never cross.
        heartbeats?.cancel()
        await heartbeats?.value
        if let lifecycle {
            do {
                try await lifecycle.run("complete")
            } catch let error as any OperatorError {
                throw Failure("snapshot \(manifest.id) is taken and verified, but \(error.problem)",
                              fix: "complete the lifecycle action by hand, or let its timeout do it")
            }
        }
        let totals = manifest.totals
        return Report(stack: config.name, snapshotId: manifest.id.rawValue, store: stack.store.location, lsn: manifest.lsn.description,
                      fence: fence.name, tables: totals.tables, rows: totals.rows, storedBytes: totals.storedBytes,
                      verifiedObjects: verified, lifecycle: lifecycle == nil ? nil : "completed",
                      seconds: (ContinuousClock.now - started).seconds)
    }

    /// The manifest as the store now lists and returns it, equal to the one written, and every
    /// object it names intact.
    private static func verify(_ taken: Manifest, stack: HookStack) async throws -> (Manifest, Int) {
        try await Blocking.run {
            let catalog = SnapshotCatalog(store: stack.store)
            guard try catalog.ids(stack: taken.stack).contains(taken.id) else {
                throw Failure("snapshot \(taken.id) is not listed in \(stack.store.location) after it was written",
                              fix: "check the store; the destroy must wait until a snapshot is certain")
            }
            let stored = try catalog.manifest(taken.id, stack: taken.stack)
            // Not the whole value: its dates come back at the JSON's precision.
            guard stored.lsn == taken.lsn, stored.tables == taken.tables, stored.largeObjects == taken.largeObjects else {
                throw Failure("the manifest of snapshot \(taken.id) read back from \(stack.store.location) differs from the one written",
                              fix: "check the store; the destroy must wait until a snapshot is certain")
            }
            let problems = SnapshotVerifier.verify(stored, in: stack.store)
            if let first = problems.first {
                throw Failure("snapshot \(taken.id) did not verify: \(first.path): \(first.reason) (\(problems.count) problems)",
                              fix: "check the store and run the hook again")
            }
            let objects = 2 + stored.tables.reduce(0) { $0 + $1.parts.count } + (stored.largeObjects == nil ? 0 : 2)
            return (stored, objects)
        }
    }
}
