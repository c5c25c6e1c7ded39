import PgOutput
import PostgresClient
import PostgresTypes

/// Applies decoded pgoutput messages to the passive, exactly once across crashes.
///
/// Source transactions are grouped: one passive transaction holds several whole source
/// transactions (never part of one) and also writes the slot's progress
/// (`continuity.stream_progress`: the last commit's end LSN). Either all of it commits or none
/// of it, so after a crash the progress row says exactly what is in, and a transaction the
/// stream sends again whose commit lies before it is skipped.
///
/// Changes are collected per table (`NetChanges`: folded per key where the table has one,
/// runs of inserts where it has not) and applied set-based: one DELETE, UPDATE or INSERT over
/// arrays per table and shape instead of one statement per row, which is what lets the
/// passive keep up better than the native apply worker. The rest (updates and deletes found
/// by a whole old row, truncates, key changes) is applied in order, one prepared statement
/// per change. Statements go through libpq's pipeline, up to `Connection.pipelineLimit` per
/// batch, with one batch in flight while the next is built; folded changes are flushed and
/// sent whenever they pass `GroupLimits.buffered` changes or bytes, so neither a large
/// transaction nor a group is ever held in memory.
///
/// Set-based statements can trip over a non-deferrable unique or exclusion constraint that the
/// same changes applied one by one would not (two rows swapping a unique value, bookings
/// rotating their time ranges): that surfaces as `SetBasedConflict`, and the runner replays
/// from the last commit with `sequentialThrough`.
///
/// Every statement is guarded (`RowCountGuard`): one that changes another number of rows than
/// it carries raises on the passive, so the group's COMMIT, pipelined behind it, rolls back.
///
/// The COMMIT is durable before its LSN is reported as flushed: a passive running with
/// `synchronous_commit = off` (common on replicas) would otherwise lose groups in a crash
/// that the active's slot has already let go of. The session raises it to `local`.
///
/// The session runs with `session_replication_role = replica`, so the passive's triggers and
/// foreign keys do not fire a second time for changes the active already checked.
///
/// The applier runs on its connection's own thread (it shares the connection's executor),
/// so every libpq call below is a plain synchronous call.
public actor StreamApplier {
    /// When a group is committed even though more changes are waiting: bounds the work a crash
    /// redoes and how long the passive's state stays invisible.
    public struct GroupLimits: Sendable {
        public var changes = 20_000
        public var age: Duration = .milliseconds(250)
        /// Folded changes held before they are flushed, by count and by bytes of row text.
        public var buffered = 5_000
        public var bufferedBytes = 8 << 20
        public init() {}
    }

    private let connection: Connection
    private let slot: String
    private let limits: GroupLimits
    /// Everything up to here is committed on the passive.
    public private(set) var appliedLSN: LSN
    /// Row changes committed on the passive by this applier, for the rate in the progress row.
    private var changes: Int64 = 0
    /// Each table as its last Relation message described it, with the passive's shape of it.
    private var tables: [UInt32: Table] = [:]
    /// Changes collected per table, in the order the tables were first changed.
    private var buffers: [UInt32: NetChanges] = [:]
    private var bufferOrder: [UInt32] = []
    private var bufferedCount = 0
    private var bufferedBytes = 0
    /// Until the passive is past this LSN, every change is applied on its own (after a conflict).
    private let sequentialThrough: LSN?
    /// The end of the last source transaction received, committed or not.
    private var lastReceivedEnd: LSN = .zero
    private var sourceTransaction = SourceState.none
    private var group: Group?
    private var pending: [PipelinedStatement] = []
    /// Whether the pending statements include set-based ones (a constraint violation then is a conflict).
    private var pendingSetBased = false
    private let rate = RateWindow()

    private enum SourceState { case none, applying, skipping }

    /// The passive transaction under way.
    private struct Group {
        let openedAt = ContinuousClock.now
        var lastEnd: LSN?
        var lastCommitTime: Int64 = 0
        var transactions = 0
        var changes: Int64 = 0
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { connection.unownedExecutor }

    private init(connection: Connection, slot: String, appliedLSN: LSN, limits: GroupLimits, sequentialThrough: LSN?) {
        self.connection = connection
        self.slot = slot
        self.appliedLSN = appliedLSN
        self.limits = limits
        self.sequentialThrough = sequentialThrough
    }

    /// Prepares the passive session and reads where the slot's progress stands.
    public static func open(on connection: Connection, slot: String, limits: GroupLimits = .init(),
                            sequentialThrough: LSN? = nil) async throws -> StreamApplier {
        try await connection.execute("""
            SET session_replication_role = replica;
            SELECT CASE WHEN current_setting('synchronous_commit') = 'off' THEN set_config('synchronous_commit', 'local', false) END
            """)
        try await StreamProgress.createTable(on: connection)
        let applied = try await StreamProgress.read(slot: slot, on: connection)?.lsn ?? .zero
        return StreamApplier(connection: connection, slot: slot, appliedLSN: applied, limits: limits, sequentialThrough: sequentialThrough)
    }

    /// True while a source transaction is half received: the group cannot end here.
    public var isInSourceTransaction: Bool { sourceTransaction != .none }

    /// Nothing received is left uncommitted.
    public var isIdle: Bool { group == nil && sourceTransaction == .none && inFlight.isEmpty }

    public func apply(_ messages: some Sequence<PgOutputMessage>) throws {
        for message in messages { try apply(message) }
    }

    public func apply(_ message: PgOutputMessage) throws {
        switch message {
        case .begin(let begin):
            // A transaction already in commits before the recorded end LSN.
            if begin.finalLSN < appliedLSN {
                sourceTransaction = .skipping
            } else {
                if group == nil {
                    group = Group()
                    try queue(PipelinedStatement("BEGIN"))
                }
                sourceTransaction = .applying
            }
        case .commit(let commit):
            lastReceivedEnd = commit.endLSN
            if sourceTransaction == .applying {
                group?.lastEnd = commit.endLSN
                group?.lastCommitTime = commit.commitTime
                group?.transactions += 1
            }
            sourceTransaction = .none
            if let group, group.changes >= limits.changes || ContinuousClock.now - group.openedAt >= limits.age {
                try endGroup()
            }
        case .relation(let relation):
            // What is folded goes out under the old description; the next change starts a
            // buffer with the new one (a kept buffer would cast to the old column types).
            try flush(relation.oid)
            buffers[relation.oid] = nil
            bufferOrder.removeAll { $0 == relation.oid }
            try send()
            try drain()  // the shape check reads the catalogue outside the pipeline
            tables[relation.oid] = Table(relation: relation, shape: try connection.assumeIsolated { try ShapeCheck.check(relation, on: $0) })
        case .type, .origin:
            break
        case .insert(let insert):
            guard sourceTransaction == .applying else { return }
            let table = try self.table(insert.relation)
            if try fold(table, { try $0.add(insert) }) { return }
            try queue(try ChangeSQL.insert(insert, into: table.relation))
        case .update(let update):
            guard sourceTransaction == .applying else { return }
            let table = try self.table(update.relation)
            if try fold(table, { try $0.add(update) }) { return }
            try queue(try ChangeSQL.update(update, of: table.relation, shape: table.shape))
        case .delete(let delete):
            guard sourceTransaction == .applying else { return }
            let table = try self.table(delete.relation)
            if try fold(table, { try $0.add(delete) }) { return }
            try queue(try ChangeSQL.delete(delete, from: table.relation, shape: table.shape))
        case .truncate(let truncate):
            guard sourceTransaction == .applying else { return }
            try flushAll()  // a truncate may cascade to any table
            try queue(ChangeSQL.truncate(truncate, relations: try truncate.relations.map { try table($0).relation }))
        }
    }

    /// Commits the passive transaction under way with the progress of its last source
    /// transaction. Only between source transactions; otherwise it waits for the next commit.
    /// The COMMIT goes out without waiting for it: the passive commits while the next group
    /// is received and folded. `appliedLSN` moves when its answer is collected (`drain`).
    public func endGroup(ifOpenFor age: Duration = .zero) throws {
        guard let open = group?.openedAt, ContinuousClock.now - open >= age, sourceTransaction == .none else { return }
        try flushAll()
        guard let group, let end = group.lastEnd else {
            // Only skipped or empty transactions: nothing to record.
            try queue(PipelinedStatement("ROLLBACK"))
            try send()
            self.group = nil
            return
        }
        let perSecond = rate.record(changes: changes + group.changes)
        try queue(StreamProgress.upsert(slot: slot, lsn: end, sourceCommitTime: group.lastCommitTime,
                                        transactions: group.transactions, changes: group.changes, perSecond: perSecond))
        try queue(PipelinedStatement("COMMIT"))
        try send(committing: Committed(end: end, changes: group.changes))
        self.group = nil
    }

    /// Records that everything before `lsn` is applied while nothing is under way (a keepalive
    /// said the active has sent all it has up to there), so it may be reported as flushed.
    public func recordIdle(at lsn: LSN) throws {
        guard isIdle, lsn > appliedLSN else { return }
        try connection.assumeIsolated { connection in
            _ = try connection.execute(StreamProgress.advanceSQL, [slot, lsn.description])
        }
        appliedLSN = lsn
    }

    /// Waits for every batch sent; afterwards `appliedLSN` covers every group ended.
    public func drain() throws {
        while !inFlight.isEmpty { try collect() }
    }

    /// Abandons what is not committed (a stop mid-group): nothing of it stays, and the next run
    /// receives it again from the recorded position. Groups already ended still commit.
    public func rollBackInFlight() throws {
        pending.removeAll()
        pendingSetBased = false
        buffers.removeAll()
        bufferOrder.removeAll()
        while let batch = inFlight.first {
            if batch.commit != nil {
                try collect()  // a group already ended: it commits
            } else {
                // Part of the abandoned group: its errors do not matter, it is rolled back.
                inFlight.removeFirst()
                _ = try? connection.assumeIsolated { try $0.collectPipeline() }
            }
        }
        if group != nil { try connection.assumeIsolated { _ = try $0.execute("ROLLBACK") } }
        group = nil
        sourceTransaction = .none
    }

    private struct Table {
        let relation: Relation
        let shape: TableShape
    }

    private func table(_ oid: UInt32) throws -> Table {
        guard let table = tables[oid] else {
            throw UnappliableChange(table: "relation \(oid)", reason: "a change arrived before its Relation message")
        }
        return table
    }

    /// Folds a change to a keyed table into its buffer; false when it must be applied on its
    /// own, in order (after what is folded for that table).
    private func fold(_ described: Table, _ add: (inout NetChanges) throws -> Bool) throws -> Bool {
        guard sequentialThrough.map({ appliedLSN > $0 }) ?? true else { return false }
        let table = described.relation
        if buffers[table.oid] == nil {
            buffers[table.oid] = NetChanges(relation: table, shape: described.shape)
            bufferOrder.append(table.oid)
        }
        // Mutated in place through the subscript: a copy would copy the whole buffer per change.
        let before = buffers[table.oid]!.bytes
        let folded = try add(&buffers[table.oid]!)
        guard folded else {
            try flush(table.oid)
            return false
        }
        group?.changes += 1
        bufferedCount += 1
        bufferedBytes += buffers[table.oid]!.bytes - before
        if bufferedCount >= limits.buffered || bufferedBytes >= limits.bufferedBytes { try flushAll() }
        return true
    }

    /// Turns every buffer into statements and sends them: the flush exists to bound memory,
    /// so its statements (whose array parameters hold the rows) must not wait for more.
    private func flushAll() throws {
        for oid in bufferOrder { try flush(oid) }
        bufferOrder.removeAll()
        buffers.removeAll()
        bufferedCount = 0
        bufferedBytes = 0
        try send()
    }

    /// Queues the set-based statements for one table's folded changes and empties its buffer.
    private func flush(_ oid: UInt32) throws {
        guard let buffer = buffers[oid], !buffer.isEmpty else { return }
        buffers[oid] = NetChanges(relation: buffer.relation, shape: buffer.shape)
        for statement in buffer.statements() {
            pendingSetBased = true
            try queue(PipelinedStatement(statement.sql, statement.parameters, prepared: true))
        }
    }

    private func queue(_ change: ChangeStatement) throws {
        group?.changes += 1
        try queue(PipelinedStatement(change.sql, change.parameters, prepared: true))
    }

    private func queue(_ statement: PipelinedStatement) throws {
        pending.append(statement)
        if pending.count >= Connection.pipelineLimit { try send() }
    }

    /// A batch sent and not yet collected.
    private struct Batch {
        let setBased: Bool
        let commit: Committed?
    }

    /// A group whose COMMIT is in a batch.
    private struct Committed {
        let end: LSN
        let changes: Int64
    }

    private var inFlight: [Batch] = []

    /// Sends the pending statements as one batch, and collects the one before it: at most one
    /// batch is in flight while the next is built.
    private func send(committing: Committed? = nil) throws {
        guard !pending.isEmpty else { return }
        let statements = pending
        inFlight.append(Batch(setBased: pendingSetBased, commit: committing))
        pending.removeAll(keepingCapacity: true)
        pendingSetBased = false
        try connection.assumeIsolated { try $0.sendPipeline(statements) }
        if inFlight.count > 1 { try collect() }
    }

    /// The oldest batch's answers. A change the passive refused (`RowCountGuard`: it found
    /// fewer rows than it carries) means the passive has diverged: stop, loudly. Its group
    /// does not commit: the error aborted the transaction its COMMIT belongs to.
    private func collect() throws {
        let batch = inFlight.removeFirst()
        do {
            _ = try connection.assumeIsolated { try $0.collectPipeline() }
        } catch let error as ServerError {
            if let unappliable = RowCountGuard.unappliable(error) { throw unappliable }
            if batch.setBased, Self.conflictStates.contains(error.sqlState) {
                throw SetBasedConflict(through: lastReceivedEnd, cause: error)
            }
            throw error
        }
        if let committed = batch.commit {
            appliedLSN = committed.end
            changes += committed.changes
        }
    }
}

extension StreamApplier {
    /// unique_violation and exclusion_violation: what set-based order can trip over and
    /// one-by-one order may not.
    static let conflictStates: Set<String> = ["23505", "23P01"]
}

/// Set-based statements hit a unique or exclusion constraint that changes applied one by one may not:
/// the runner replays from the last commit, applying each change on its own through `through`.
public struct SetBasedConflict: Error {
    public let through: LSN
    public let cause: ServerError
}
