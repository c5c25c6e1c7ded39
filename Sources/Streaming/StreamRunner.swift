import Applier
import Foundation
import Logging
import OperatorErrors
import PgOutput
import PostgresClient

public struct StreamOptions: Sendable {
    public var source: ConnectionString
    public var target: ConnectionString
    public var slot: String
    public var publication: String
    public var until: Until
    /// How long a restart waits for a crashed run's walsender to let go of the slot.
    public var slotReleaseWait: Duration = .seconds(10)

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
    /// `caught-up`, `lsn` (the --until point), `stopped` (cancelled, e.g. by SIGTERM) or `ended` (by the server).
    public let reason: String
}

/// `continuity stream`: follows the slot and applies every transaction to the passive
/// through `StreamApplier`. Standby status updates report as flushed only what the passive
/// has committed; when the stream is idle, the position of the last keepalive, since nothing
/// before it remains to apply, so the slot keeps advancing and WAL does not pile up.
public enum StreamRunner {
    public static func run(_ options: StreamOptions, logger: Logger) async throws -> StreamReport {
        try await prepareSource(options)
        // The insert position, not pg_current_wal_lsn() (the write position): with asynchronous
        // commit the write position can still lie before transactions already committed.
        let target: LSN? = switch options.until {
        case .never: nil
        case .lsn(let lsn): lsn
        case .caughtUp: try await Connection.with(options.source) { try await $0.query("SELECT pg_current_wal_insert_lsn()").scalar(LSN.self) }
        }
        return try await Connection.with(options.target) { passive in
            let applier = try await StreamApplier.open(on: passive, slot: options.slot)
            // Sequences go through sessions of their own, never the applier's transaction.
            return try await Connection.with(options.source) { sequenceSource in
                try await Connection.with(options.target) { sequenceTarget in
                    let sequences = SequenceSync(source: sequenceSource, target: sequenceTarget)
                    return try await Connection.with(options.source, options: .init(replication: true)) { replication in
                        try await replication.startLogicalReplication(
                            slot: options.slot, from: applier.appliedLSN,
                            options: [("proto_version", "1"), ("publication_names", options.publication)])
                        logger.info("streaming slot \(options.slot) from \(applier.appliedLSN) into \(options.target.shortDescription)")
                        let (transactions, reason) = try await follow(replication, applier: applier, sequences: sequences,
                                                                      until: target, logger: logger)
                        try await replication.endReplication()
                        let stop = reason == .reachedTarget ? (options.until == .caughtUp ? "caught-up" : "lsn") : reason.rawValue
                        return StreamReport(slot: options.slot, appliedLSN: applier.appliedLSN.description,
                                            transactions: transactions, reason: stop)
                    }
                }
            }
        }
    }

    /// The publication (FOR ALL TABLES, partitions through their root) and the slot, unless
    /// they exist; a slot another process is following is refused.
    public static func prepareSource(_ options: StreamOptions) async throws {
        try await Connection.with(options.source) { source in
            let publications = try await source.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [options.publication]).rows
            if publications.isEmpty {
                try await source.execute("CREATE PUBLICATION \(quoteIdentifier(options.publication)) FOR ALL TABLES WITH (publish_via_partition_root = true)")
            }
            // After a crash the old walsender holds the slot until it notices its client is gone,
            // normally within moments: wait a little before calling the slot taken.
            var slot = try await activePid(source, options.slot)
            let deadline = ContinuousClock.now + options.slotReleaseWait
            while case .some(.some) = slot, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))  // polling the catalogue with a deadline
                slot = try await activePid(source, options.slot)
            }
            if case .some(.some(let pid)) = slot {
                throw UsageError("slot \(options.slot) is being followed by another process (pid \(pid))",
                                 fix: "stop that stream first, or give this one its own --slot", status: .refused)
            }
            if case .none = slot {
                try await Connection.with(options.source, options: .init(replication: true)) {
                    _ = try await $0.createLogicalSlot(options.slot, snapshot: .noExport)
                }
            }
        }
    }

    /// nil: no such slot; .some(nil): the slot exists and is free; .some(pid): a process follows it.
    private static func activePid(_ source: Connection, _ slot: String) async throws -> String?? {
        guard let row = try await source.query("SELECT active_pid::text FROM pg_replication_slots WHERE slot_name = $1", [slot]).rows.first
        else { return nil }
        return .some(row["active_pid"])
    }

    enum StopReason: String { case reachedTarget, stopped, ended }

    private static func follow(_ replication: Connection, applier: StreamApplier, sequences: SequenceSync,
                               until target: LSN?, logger: Logger) async throws -> (Int, StopReason) {
        var transactions = 0
        var inTransaction = false
        var idlePosition = applier.appliedLSN
        var lastStatus = ContinuousClock.now
        var lastSequenceSync = ContinuousClock.now - .seconds(60)
        while true {
            if ContinuousClock.now - lastSequenceSync > .seconds(5) {
                try await sequences.run()
                lastSequenceSync = ContinuousClock.now
            }
            if Task.isCancelled {
                // Asked to stop (SIGTERM): the transaction in flight is rolled back, not half applied.
                try await applier.rollBackInFlight()
                logger.info("stopped at \(applier.appliedLSN), \(transactions) transactions applied")
                return (transactions, .stopped)
            }
            guard let frames = try await replication.receive(timeout: .milliseconds(500)) else { return (transactions, .ended) }
            var replyRequested = false
            for bytes in frames {
                switch try ReplicationFrame.decode(bytes[...]) {
                case .keepalive(let keepalive):
                    replyRequested = replyRequested || keepalive.replyRequested
                    if !inTransaction { idlePosition = max(idlePosition, keepalive.walEnd) }
                case .xLogData(let data):
                    let message = try PgOutputMessage.decode(data.payload)
                    switch message {
                    case .begin: inTransaction = true
                    case .commit:
                        inTransaction = false
                        transactions += 1
                    default: break
                    }
                    try await applier.apply(message)
                    if !inTransaction { idlePosition = max(idlePosition, applier.appliedLSN) }
                }
            }
            let flushed = max(applier.appliedLSN, idlePosition)
            // Nothing arrived: ask for a keepalive now rather than in wal_sender_timeout/2, so an
            // idle stream learns the server's position (and --until sees it) at once.
            let quiet = frames.isEmpty
            if replyRequested || quiet || ContinuousClock.now - lastStatus > .seconds(1) {
                try await replication.sendStandbyStatus(StandbyStatusUpdate(
                    written: flushed, flushed: flushed, applied: flushed,
                    clock: StandbyStatusUpdate.clock(unixSeconds: Date().timeIntervalSince1970), replyRequested: quiet))
                lastStatus = ContinuousClock.now
            }
            if let target, !inTransaction, flushed >= target {
                try await sequences.run()  // current as of the end of the run, too
                logger.info("caught up at \(flushed) (target \(target)), \(transactions) transactions applied")
                return (transactions, .reachedTarget)
            }
        }
    }
}
