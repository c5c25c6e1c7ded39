import Applier
import Foundation
import Logging
import OperatorErrors
import PgOutput
import PostgresClient
import PostgresTypes

/// One connected stretch of a stream: the slot followed and applied until the target, a stop,
/// or an error (which the runner may answer by reconnecting).
///
/// Status updates report as flushed only what the passive has committed; when everything
/// received is committed, the position of the last keepalive, since nothing before it remains
/// to apply, so the slot keeps advancing and WAL does not pile up on an idle active. That
/// position is recorded in the progress row before it is reported (at most once a second):
/// the slot is then never past the passive's progress, so a slot that is must have been
/// followed by someone else, and the next run refuses it (`StreamStart`). When to commit,
/// record and report is decided by `SessionTiming`.
struct StreamSession {
    let options: StreamOptions
    let target: LSN?
    let logger: Logger
    /// After a set-based conflict: apply change by change until past this LSN.
    var sequentialThrough: LSN?

    enum End { case reachedTarget, stopped }

    /// Frames taken from the socket per round: a batch is applied in one hop to the passive's
    /// thread. Capped in bytes too, so wide rows cannot make a batch large.
    static let framesPerBatch = 1024
    static let bytesPerBatch = 8 << 20

    func run(totals: StreamTotals) async throws -> End {
        try await Connection.with(options.target) { passive in
            let applier = try await StreamApplier.open(on: passive, slot: options.slot, sequentialThrough: sequentialThrough)
            // Sequences go through sessions of their own, never the applier's transaction.
            return try await Connection.with(options.target) { sequenceTarget in
                let sequences = SequenceSync(source: options.source, target: sequenceTarget, slot: options.slot)
                return try await Connection.with(options.source, options: .init(replication: true)) { replication in
                    let start = await applier.appliedLSN
                    try await Connection.with(options.source) { try await SourcePreparation.requireNotPast(start, slot: options.slot, on: $0) }
                    try await replication.startLogicalReplication(
                        slot: options.slot, from: start,
                        options: [("proto_version", "1"), ("publication_names", quoteIdentifier(options.publication)),
                                  // Cutover's marker after its pause (PgOutput.LogicalMessage).
                                  ("messages", "true")])
                    logger.info("streaming slot \(options.slot) from \(start) into \(options.target.shortDescription)")
                    totals.sessions += 1
                    let end = try await follow(replication, applier: applier, sequences: sequences, totals: totals)
                    try await replication.endReplication()
                    return end
                }
            }
        }
    }

    private func follow(_ replication: Connection, applier: StreamApplier, sequences: SequenceSync,
                        totals: StreamTotals) async throws -> End {
        var timing = SessionTiming()
        while true {
            if timing.sequencesDue() {
                do {
                    try await sequences.run()
                } catch let error where !(error is PassivePromoted) && !Task.isCancelled {
                    // The changes matter more than a sync that is tried again in seconds (a
                    // cutover's fence ends sessions on the active).
                    logger.warning("sequences not synced this time: \((error as? any OperatorError)?.problem ?? "\(error)")")
                }
                timing.sequencesSynced()
            }
            if Task.isCancelled {
                // Asked to stop (SIGTERM): commit what is whole, roll back a half-received transaction.
                try await finish(applier)
                let applied = await applier.appliedLSN
                logger.info("stopped at \(applied)")
                return .stopped
            }
            let (committed, inSourceTransaction) = (await applier.isIdle, await applier.isInSourceTransaction)
            let pending = !committed && !inSourceTransaction
            guard let frames = try await replication.receive(timeout: SessionTiming.receiveTimeout(pending: pending),
                                                               limit: Self.framesPerBatch, byteLimit: Self.bytesPerBatch) else {
                throw ConnectionLost(target: options.source.shortDescription, reason: "the server ended the replication stream")
            }
            var messages: [PgOutputMessage] = []
            var replyRequested = false
            var keepalivePosition: LSN?
            for bytes in frames {
                switch try ReplicationFrame.decode(bytes[...]) {
                case .keepalive(let keepalive):
                    replyRequested = replyRequested || keepalive.replyRequested
                    keepalivePosition = keepalive.walEnd
                case .xLogData(let data):
                    messages.append(try PgOutputMessage.decode(data.payload))
                }
            }
            try await applier.apply(messages)
            switch SessionTiming.groupEnd(received: frames.count, limit: Self.framesPerBatch) {
            case .commit:
                try await applier.endGroup()
                try await applier.drain()
            case .commitIfOpenFor(let age):
                try await applier.endGroup(ifOpenFor: age)
                try await applier.drain()
            case .keepOpen:
                break
            }
            let (applied, idle) = (await applier.appliedLSN, await applier.isIdle)
            if let position = timing.idlePosition(idle: idle, keepalive: keepalivePosition, applied: applied, target: target) {
                try await applier.recordIdle(at: position)
                timing.idleRecorded()
            }
            let flushed = await applier.appliedLSN
            let quiet = frames.isEmpty
            if timing.statusDue(replyRequested: replyRequested, quiet: quiet, flushed: flushed) {
                try await replication.sendStandbyStatus(StandbyStatusUpdate(
                    written: flushed, flushed: flushed, applied: flushed,
                    clock: StandbyStatusUpdate.clock(unixSeconds: Date().timeIntervalSince1970), replyRequested: quiet))
                timing.statusSent(flushed: flushed)
            }
            // Everything up to the target is committed; what came after it commits too if whole.
            if let target, flushed >= target {
                try await finish(applier)
                try await sequences.run()  // current as of the end of the run, too
                logger.info("caught up at \(flushed) (target \(target))")
                return .reachedTarget
            }
        }
    }
}

/// Ends a run: commits the open group when it holds only whole transactions, else rolls back
/// the half-received one; either way waits until the passive has answered.
private func finish(_ applier: StreamApplier) async throws {
    if await applier.isInSourceTransaction { try await applier.rollBackInFlight() } else { try await applier.endGroup() }
    try await applier.drain()
}

/// Counts the sessions of one run (a reconnect starts a new one).
final class StreamTotals {
    var sessions = 0
}

