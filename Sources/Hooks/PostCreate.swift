import ContinuityConfig
import DatabaseCopy
import Foundation
import Logging
import OperatorErrors
import Parallelism
import PostgresClient
import ProgressDisplay
import Restoring
import SnapshotCatalog
import SnapshotFormat

/// `hook post-create`: a new, empty target gets the stack's newest complete snapshot. Safe to
/// run any number of times: a target that already holds that snapshot (its row in
/// `continuity.restores`) is left alone, and one holding anything else is refused (exit 3),
/// never restored over. The stream is not started here (a hook must end); the report says
/// when the stack wants one, for the operator or the agent.
public enum PostCreateHook {
    public enum Outcome: String, Encodable, Sendable {
        case restored, alreadyRestored = "already-restored", nothingToRestore = "nothing-to-restore"
    }

    public struct Report: Encodable, Sendable {
        public let stack: String
        public let outcome: Outcome
        public let snapshotId: String?
        public let target: String
        public let tables: Int?
        public let rows: Int64?
        /// Whether the stack's config has the stream on: it is then for the agent (or
        /// `continuity stream`) to start, not for this hook.
        public let streamWanted: Bool
        public let slot: String?
        public let seconds: Double

        public var text: String {
            let head = switch outcome {
            case .restored:
                "post-create of stack \(stack): restored snapshot \(snapshotId ?? "?") into \(target), \(tables ?? 0) tables, \(rows ?? 0) rows, \(String(format: "%.1f", seconds)) s"
            case .alreadyRestored:
                "post-create of stack \(stack): \(target) already holds snapshot \(snapshotId ?? "?"); nothing to do"
            case .nothingToRestore:
                "post-create of stack \(stack): the store has no snapshot of the stack yet; \(target) is left as it is"
            }
            guard streamWanted, let slot else { return head }
            return head + "\nthe stack streams (slot \(slot)): start it with the agent, or `continuity stream` with this stack's settings; this hook does not"
        }
    }

    /// Two hooks at once (a retry racing a slow first run) meet on this advisory lock on the
    /// target: the second waits, then finds the first's restore recorded.
    static let lockKey = "continuity.hook.post-create"

    public static func run(_ stack: HookStack, jobs: Int, toolVersion: String, logger: Logger) async throws -> Report {
        let config = stack.config
        let target = try stack.target()
        let started = ContinuousClock.now
        let catalog = SnapshotCatalog(store: stack.store)
        func report(_ outcome: Outcome, _ manifest: Manifest? = nil, id: String? = nil) -> Report {
            Report(stack: config.name, outcome: outcome, snapshotId: manifest?.id.rawValue ?? id, target: target.shortDescription,
                   tables: manifest?.totals.tables, rows: manifest?.totals.rows, streamWanted: config.stream,
                   slot: config.stream ? config.slot : nil, seconds: (ContinuousClock.now - started).seconds)
        }
        return try await Connection.with(target) { lock in
            try await lock.execute("SELECT pg_advisory_lock(hashtext($1))", [lockKey])
            let newest = try await Blocking.run { try catalog.ids(stack: config.name).last }
            let record = try await RestoreRecord.latest(on: lock)
            let contents = try await TargetContents.read(lock)
            if let record {
                if record.stack == config.name, record.snapshotID == newest?.rawValue {
                    logger.info("\(target.shortDescription) already holds snapshot \(record.snapshotID) of stack \(config.name)")
                    return report(.alreadyRestored, id: record.snapshotID)
                }
                throw Refusal("\(target.shortDescription) holds snapshot \(record.snapshotID) of stack \(record.stack), not the newest of stack \(config.name) (\(newest?.rawValue ?? "none"))",
                              fix: "it may hold writes made since; restore by hand (`continuity restore --clean`) if it is really to be replaced")
            }
            if let holding = contents.holding {
                throw Refusal("\(target.shortDescription) is not empty (\(holding)) and was not restored by continuity",
                              fix: "post-create restores only into an empty database; if a restore into it was interrupted, recreate the database and run the hook again")
            }
            guard let newest else {
                logger.notice("no snapshot of stack \(config.name) in \(stack.store.location) yet: nothing to restore")
                return report(.nothingToRestore)
            }
            let options = RestoreOptions(target: target, store: stack.store, stack: config.name, snapshot: newest.rawValue,
                                         jobs: config.jobs ?? jobs, clean: false, toolVersion: toolVersion)
            let manifest = try await RestoreRunner.restore(options, logger: logger)
            return report(.restored, manifest)
        }
    }
}
