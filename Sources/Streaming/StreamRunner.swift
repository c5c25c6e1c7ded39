import Applier
import DatabaseCopy
import Foundation
import InitialCopy
import Logging
import OperatorErrors
import PostgresClient
import PostgresTypes

public struct StreamOptions: Sendable {
    public var source: ConnectionString
    public var target: ConnectionString
    public var slot: String
    public var publication: String
    public var initMode: InitMode = .none
    /// `--init copy` into a passive that is not empty: drop its user schemas first.
    public var clean = false
    /// Parallel sessions for `--init copy`.
    public var jobs = 2
    /// `--assume-in-sync`: the operator vouches that the passive matches the active now, so a
    /// passive with no progress row and no snapshot slot may start from a slot made now.
    public var assumeInSync = false
    public var until: Until
    /// How long a restart waits for a crashed run's walsender to let go of the slot.
    public var slotReleaseWait: Duration = .seconds(10)
    /// How long the stream keeps reconnecting before it gives up and exits 1.
    public var reconnectFor: Duration = .seconds(300)

    public enum InitMode: String, Sendable { case none, copy }

    /// When a run stops by itself (otherwise it follows the source until cancelled).
    public enum Until: Sendable, Equatable {
        case never
        /// Everything committed on the source before the run started is applied.
        case caughtUp
        case lsn(LSN)
    }

    public init(source: ConnectionString, target: ConnectionString, slot: String, publication: String, until: Until) {
        self.source = source
        self.target = target
        self.slot = slot
        self.publication = publication
        self.until = until
    }
}

public struct StreamReport: Codable, Sendable {
    public let slot: String
    public let appliedLSN: String
    public let transactions: Int
    /// Connections made to follow the slot: 1, plus one per reconnect.
    public let sessions: Int
    /// The initial copy, when this run made one.
    public let initialCopy: CopyReport?
    /// `caught-up`, `lsn` (the --until point), `stopped` (cancelled, e.g. by SIGTERM) or
    /// `promoted` (a cutover made the passive the active).
    public let reason: String
}

/// `continuity stream`: prepares the active (publication, slot, and with `--init copy` the
/// copy of every table under the slot's snapshot), then follows the slot, reconnecting with
/// backoff when either node goes away, until the `--until` point or a stop.
public enum StreamRunner {
    public static func run(_ options: StreamOptions, logger: Logger) async throws -> StreamReport {
        var options = options
        // A passive is written to even when fenced read-only: the reverse stream of a cutover
        // applies into the old active, which the cutover fenced against its clients.
        options.target = options.target.overridingReadOnlyFence()
        // Checked before anything else: once a cutover promoted the passive, the slot may be gone.
        if let promoted = try await Connection.with(options.target, { try await StreamProgress.read(slot: options.slot, on: $0) }),
           promoted.promotedAt != nil {
            logger.notice("\(PassivePromoted(slot: options.slot).problem)")
            return StreamReport(slot: options.slot, appliedLSN: promoted.lsn.description, transactions: 0, sessions: 0,
                                initialCopy: nil, reason: "promoted")
        }
        let initialCopy = try await prepare(options, logger: logger)
        // The insert position, not pg_current_wal_lsn() (the write position): with asynchronous
        // commit the write position can still lie before transactions already committed.
        let target: LSN? = switch options.until {
        case .never: nil
        case .lsn(let lsn): lsn
        case .caughtUp: try await Connection.with(options.source, caughtUpTarget)
        }
        let totals = StreamTotals()
        // Counted on the passive, where they commit: exact across crashes and reconnects.
        let transactionsBefore = try await Connection.with(options.target) {
            try await StreamProgress.read(slot: options.slot, on: $0)?.transactions ?? 0
        }
        var reconnect = Reconnect(giveUpAfter: options.reconnectFor)
        var session = StreamSession(options: options, target: target, logger: logger)
        func report(_ reason: String) async throws -> StreamReport {
            let progress = try await Connection.with(options.target) { try await StreamProgress.read(slot: options.slot, on: $0) }
            return StreamReport(slot: options.slot, appliedLSN: (progress?.lsn ?? .zero).description,
                                transactions: Int((progress?.transactions ?? 0) - transactionsBefore),
                                sessions: totals.sessions, initialCopy: initialCopy, reason: reason)
        }
        while true {
            let sessionsBefore = totals.sessions
            do {
                switch try await session.run(totals: totals) {
                case .reachedTarget: return try await report(options.until == .caughtUp ? "caught-up" : "lsn")
                case .stopped: return try await report("stopped")
                }
            } catch let promoted as PassivePromoted {
                logger.notice("\(promoted.problem)")
                return try await report("promoted")
            } catch let conflict as SetBasedConflict {
                logger.notice("a set-based statement hit a unique constraint (\(conflict.cause.message)); replaying through \(conflict.through) one change at a time")
                session.sequentialThrough = conflict.through
            } catch where Reconnect.isTransient(error) && !Task.isCancelled {
                if totals.sessions > sessionsBefore { reconnect.succeeded() }
                guard let delay = reconnect.nextDelay() else {
                    logger.error("giving up after reconnecting for \(options.reconnectFor)")
                    throw error
                }
                logger.warning("\((error as? any OperatorError)?.problem ?? "\(error)"); reconnecting in \(delay)")
                do { try await Task.sleep(for: delay) } catch { return try await report("stopped") }
            }
        }
    }

    /// The WAL position everything committed so far lies before. The walsender sends only
    /// flushed WAL, and with asynchronous commit the tail (the last commits, or the slot's own
    /// records after an initial copy) may wait seconds for a flush on a quiet server: an empty
    /// transaction committed synchronously flushes it now. It is best effort (a read-only
    /// standby or a role without rights just waits for the server's own flush).
    private static func caughtUpTarget(_ source: Connection) async throws -> LSN {
        let target = try await source.query("SELECT pg_current_wal_insert_lsn()").scalar(LSN.self)
        do {
            try await source.execute("BEGIN READ WRITE; SET LOCAL synchronous_commit = on; SELECT txid_current(); COMMIT")
        } catch {
            _ = try? await source.execute("ROLLBACK")
        }
        return target
    }

    /// Decides where the stream starts (`StreamStart`), refusing before anything is created on
    /// the active; then the publication, the slot, and with `--init copy` the passive's copy,
    /// unless this passive already has one for this slot (a re-run then just resumes).
    @discardableResult
    public static func prepare(_ options: StreamOptions, logger: Logger) async throws -> CopyReport? {
        try await Connection.with(options.source) { source in
            try await SourcePreparation.requireReplicaIdentities(on: source)
            _ = try await SourcePreparation.settledSlotState(options, on: source)
            let active = try await StreamStart.Active.read(slot: options.slot, on: source)
            let passive = try await Connection.with(options.target) { try await StreamStart.Passive.read(slot: options.slot, on: $0) }
            let start = try StreamStart.decide(.init(slot: options.slot, publication: options.publication, initMode: options.initMode,
                                                     clean: options.clean, assumeInSync: options.assumeInSync),
                                               passive: passive, active: active)
            try await SourcePreparation.ensurePublication(options, on: source)
            switch start {
            case .resume:
                if options.initMode == .copy { logger.info("the passive was copied for slot \(options.slot) before; resuming the stream") }
                return nil
            case .snapshot(let id, let lsn):
                try await Connection.with(options.target) { try await StreamProgress.start(slot: options.slot, at: lsn, on: $0) }
                logger.info("the passive was restored from snapshot \(id): streaming slot \(options.slot) from the snapshot's LSN \(lsn)")
                return nil
            case .copy(let dropSlot):
                if dropSlot {
                    try await Connection.with(options.source, options: .init(replication: true)) { try await $0.dropSlot(options.slot) }
                }
                return try await copy(options, logger: logger)
            case .inSync(let createSlot):
                let from = createSlot
                    ? try await Connection.with(options.source, options: .init(replication: true)) {
                        try await $0.createLogicalSlot(options.slot, snapshot: .noExport).consistentPoint
                    }
                    : active.slot?.confirmedFlush
                // Recorded, so that a re-run without the flag resumes instead of being refused.
                if let from {
                    try await Connection.with(options.target) { try await StreamProgress.start(slot: options.slot, at: from, on: $0) }
                }
                logger.notice("--assume-in-sync: streaming slot \(options.slot) from \(from?.description ?? "where it stands"); nothing written before is carried")
                return nil
            }
        }
    }

    /// Creates the slot with an exported snapshot and copies everything under it; the stream
    /// then starts at the slot's consistent point, so nothing is lost and nothing repeated. If
    /// a table was truncated as the slot was made (`SnapshotTableLocks`), the slot is dropped
    /// and made again, and the partial copy replaced.
    private static func copy(_ options: StreamOptions, logger: Logger) async throws -> CopyReport {
        try await Connection.with(options.source, options: .init(replication: true)) { replication in
            try await SnapshotTableLocks.retrying { attempt in
                let slot = try await replication.createLogicalSlot(options.slot, snapshot: .export)
                guard let snapshot = slot.snapshotName else {
                    throw Failure("the active did not export a snapshot for slot \(options.slot)", fix: "check the server log")
                }
                // The snapshot lives as long as this walsender connection stays open and idle.
                let report: CopyReport
                do {
                    // After a failed attempt the passive holds what it copied: replace it.
                    report = try await InitialCopy.run(.init(source: options.source, target: options.target, snapshot: snapshot,
                                                             jobs: options.jobs, clean: options.clean || attempt > 1), logger: logger)
                } catch where Task.isCancelled {
                    throw InitialCopyInterrupted()
                }
                try await Connection.with(options.target) { try await StreamProgress.start(slot: options.slot, at: slot.consistentPoint, on: $0) }
                logger.info("copied \(report.rows) rows of \(report.tables) tables; streaming from the slot's consistent point \(slot.consistentPoint)")
                return report
            } rewritten: { error, last in
                try await replication.dropSlot(options.slot)
                guard !last else {
                    throw Failure(error.problem, fix: "pause what truncates it for a moment, then run again with --clean (the passive holds a partial copy)")
                }
                logger.notice("\(error.table) was truncated or rewritten as the slot was made; making it again")
            }
        }
    }
}
