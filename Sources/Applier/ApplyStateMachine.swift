import PostgresTypes
import PgOutput
import PostgresClient

/// What the applier does on the passive, in the order the state machine asks for it.
enum ApplyAction: Equatable {
    /// Send these statements as one pipeline batch, without waiting for their answers.
    case send(PipelineBatch)
    /// Read the answers to the oldest batch sent and hand them to `collected`.
    case collect(BatchReceipt)
    /// Read the answers to the oldest batch sent and drop them: part of an abandoned group,
    /// whose errors do not matter (it is rolled back).
    case discard
    /// Read the passive's shape of a table (`ShapeCheck`) and hand it to `described`. Every
    /// batch sent is collected before: the check reads the catalogue outside the pipeline.
    case describe(Relation)
    /// Roll back the passive transaction under way, outside the pipeline.
    case rollBack
}

/// What the answers to a batch mean for the stream.
enum BatchOutcome: Equatable {
    /// Applied; if the batch carried a COMMIT, `appliedLSN` moved to its group's end.
    case applied
    /// A change found another number of rows than it carries (`RowCountGuard`): stop, loudly.
    case diverged(UnappliableChange)
    /// A set-based statement hit a unique or exclusion constraint: replay change by change.
    case conflict(SetBasedConflict)
    /// Any other error, as the server gave it.
    case failed(ServerError)
}

/// The applier's decisions, free of I/O, in the way postgres-nio builds its connection: a
/// decoded pgoutput message (or a call: end the group, drain, roll back) goes in, actions come
/// out (`nextAction`), and what the passive answered comes back in (`collected`, `described`).
/// It holds the source transaction's state, the group's lifecycle, the per-table buffers and
/// the batches in flight; `StreamApplier` only runs the actions on the connection.
///
/// The rules are `StreamApplier`'s (see there): whole source transactions grouped into one
/// passive transaction that also writes the progress row; a transaction whose commit lies
/// before `appliedLSN` skipped; keyed changes folded per table (`NetChanges`) and sent
/// set-based; the rest one by one, in order; one batch in flight while the next is built.
/// After an action failed the machine is not used again: the session ends.
struct ApplyStateMachine {
    private let slot: String
    private let limits: StreamApplier.GroupLimits
    /// Until the passive is past this LSN, every change is applied on its own (after a conflict).
    private let sequentialThrough: LSN?
    /// The clock groups are aged by; injectable so the rules are tested without waiting.
    private let now: @Sendable () -> ContinuousClock.Instant
    /// Everything up to here is committed on the passive.
    private(set) var appliedLSN: LSN
    /// Row changes committed on the passive by this applier, for the rate in the progress row.
    private var changes: Int64 = 0
    /// Each table as its last Relation message described it, with the passive's shape of it.
    private var tables: [UInt32: Table] = [:]
    /// Changes collected per table, in the order the tables were first changed.
    private var buffers: [UInt32: NetChanges] = [:]
    private var bufferOrder: [UInt32] = []
    private var bufferedCount = 0
    private var bufferedBytes = 0
    /// The end of the last source transaction received, committed or not.
    private var lastReceivedEnd: LSN = .zero
    private var sourceTransaction = SourceState.none
    private var group: Group?
    private var batcher = PipelineBatcher()
    /// Batches sent and not yet collected, oldest first.
    private var inFlight: [BatchReceipt] = []
    private var rate = RateWindow()
    /// Actions decided and not yet taken (`nextAction`).
    private var actions: [ApplyAction] = []
    private var nextActionIndex = 0

    private enum SourceState { case none, applying, skipping }

    /// The passive transaction under way.
    private struct Group {
        let openedAt: ContinuousClock.Instant
        var lastEnd: LSN?
        var lastCommitTime: Int64 = 0
        var transactions = 0
        var changes: Int64 = 0
    }

    private struct Table {
        let relation: Relation
        let shape: TableShape
    }

    init(slot: String, appliedLSN: LSN, limits: StreamApplier.GroupLimits = .init(), sequentialThrough: LSN? = nil,
         now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.slot = slot
        self.appliedLSN = appliedLSN
        self.limits = limits
        self.sequentialThrough = sequentialThrough
        self.now = now
    }

    /// True while a source transaction is half received: the group cannot end here.
    var isInSourceTransaction: Bool { sourceTransaction != .none }

    /// Nothing received is left uncommitted.
    var isIdle: Bool { group == nil && sourceTransaction == .none && inFlight.isEmpty }

    /// The next thing to do on the passive, oldest first; nil when there is nothing left.
    mutating func nextAction() -> ApplyAction? {
        guard nextActionIndex < actions.count else {
            if !actions.isEmpty { actions.removeAll(keepingCapacity: true) }
            nextActionIndex = 0
            return nil
        }
        defer { nextActionIndex += 1 }
        return actions[nextActionIndex]
    }

    /// Forgets the actions not taken (one of them failed).
    mutating func dropActions() {
        actions.removeAll(keepingCapacity: true)
        nextActionIndex = 0
    }

    // MARK: Messages in

    mutating func receive(_ message: PgOutputMessage) throws(UnappliableChange) {
        switch message {
        case .begin(let begin):
            // A transaction already in commits before the recorded end LSN.
            if begin.finalLSN < appliedLSN {
                sourceTransaction = .skipping
            } else {
                if group == nil {
                    group = Group(openedAt: now())
                    queue(PipelinedStatement("BEGIN"))
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
            if let group, group.changes >= limits.changes || now() - group.openedAt >= limits.age {
                endGroup()
            }
        case .relation(let relation):
            // What is folded goes out under the old description; the next change starts a
            // buffer with the new one (a kept buffer would cast to the old column types).
            flush(relation.oid)
            buffers[relation.oid] = nil
            bufferOrder.removeAll { $0 == relation.oid }
            send()
            drain()
            actions.append(.describe(relation))
        case .type, .origin, .message:
            // A message changes no table: its transaction commits empty, moving the progress row.
            break
        case .insert(let insert):
            guard sourceTransaction == .applying else { return }
            let table = try self.table(insert.relation)
            if try fold(table, { changes throws(UnappliableChange) in try changes.add(insert) }) { return }
            queue(try ChangeSQL.insert(insert, into: table.relation))
        case .update(let update):
            guard sourceTransaction == .applying else { return }
            let table = try self.table(update.relation)
            if try fold(table, { changes throws(UnappliableChange) in try changes.add(update) }) { return }
            queue(try ChangeSQL.update(update, of: table.relation, shape: table.shape))
        case .delete(let delete):
            guard sourceTransaction == .applying else { return }
            let table = try self.table(delete.relation)
            if try fold(table, { changes throws(UnappliableChange) in try changes.add(delete) }) { return }
            queue(try ChangeSQL.delete(delete, from: table.relation, shape: table.shape))
        case .truncate(let truncate):
            guard sourceTransaction == .applying else { return }
            flushAll()  // a truncate may cascade to any table
            queue(ChangeSQL.truncate(truncate, relations: try truncate.relations.map { oid throws(UnappliableChange) in try table(oid).relation }))
        }
    }

    /// The passive's shape of a table a Relation message described (`.describe`).
    mutating func described(_ relation: Relation, shape: TableShape) {
        tables[relation.oid] = Table(relation: relation, shape: shape)
    }

    // MARK: Calls in

    /// Commits the passive transaction under way with the progress of its last source
    /// transaction, if it has been open for `age`. Only between source transactions;
    /// otherwise it waits for the next commit. The COMMIT goes out without waiting for it:
    /// `appliedLSN` moves when its answer is collected.
    mutating func endGroup(ifOpenFor age: Duration = .zero) {
        guard let open = group?.openedAt, now() - open >= age, sourceTransaction == .none else { return }
        flushAll()
        guard let group, let end = group.lastEnd else {
            // Only skipped or empty transactions: nothing to record.
            queue(PipelinedStatement("ROLLBACK"))
            send()
            self.group = nil
            return
        }
        let perSecond = rate.record(changes: changes + group.changes, at: now())
        queue(StreamProgress.upsert(slot: slot, lsn: end, sourceCommitTime: group.lastCommitTime,
                                    transactions: group.transactions, changes: group.changes, perSecond: perSecond))
        // Never fills a batch (which would send it without its receipt): flushAll sent what was pending.
        queue(PipelinedStatement("COMMIT"))
        send(committing: CommittedGroup(end: end, changes: group.changes))
        self.group = nil
    }

    /// Collects every batch sent; afterwards `appliedLSN` covers every group ended.
    mutating func drain() {
        while !inFlight.isEmpty { actions.append(.collect(inFlight.removeFirst())) }
    }

    /// The position to record as applied while nothing is under way (a keepalive said the
    /// active has sent everything before `lsn`), or nil when there is nothing to record.
    func idlePosition(_ lsn: LSN) -> LSN? {
        isIdle && lsn > appliedLSN ? lsn : nil
    }

    /// The idle position is recorded on the passive.
    mutating func idleRecorded(at lsn: LSN) {
        appliedLSN = lsn
    }

    /// Abandons what is not committed (a stop mid-group): nothing of it stays, and the next run
    /// receives it again from the recorded position. Groups already ended still commit.
    mutating func rollBack() {
        batcher.discard()
        buffers.removeAll()
        bufferOrder.removeAll()
        bufferedCount = 0
        bufferedBytes = 0
        for receipt in inFlight {
            actions.append(receipt.commit != nil ? .collect(receipt) : .discard)
        }
        inFlight.removeAll()
        if group != nil { actions.append(.rollBack) }
        group = nil
        sourceTransaction = .none
    }

    // MARK: Answers in

    /// What the answers to a batch (`.collect`) mean: `failure` is the error its first
    /// failing statement raised, nil when all went through.
    mutating func collected(_ receipt: BatchReceipt, failure: ServerError?) -> BatchOutcome {
        if let failure {
            if let unappliable = RowCountGuard.unappliable(failure) { return .diverged(unappliable) }
            if receipt.setBased, Self.conflictStates.contains(failure.sqlState) {
                return .conflict(SetBasedConflict(through: lastReceivedEnd, cause: failure))
            }
            return .failed(failure)
        }
        if let committed = receipt.commit {
            appliedLSN = committed.end
            changes += committed.changes
        }
        return .applied
    }

    /// unique_violation and exclusion_violation: what set-based order can trip over and
    /// one-by-one order may not.
    static let conflictStates: Set<String> = ["23505", "23P01"]

    // MARK: Buffers and batches

    private func table(_ oid: UInt32) throws(UnappliableChange) -> Table {
        guard let table = tables[oid] else {
            throw UnappliableChange(table: "relation \(oid)", reason: "a change arrived before its Relation message")
        }
        return table
    }

    /// Folds a change to a keyed table into its buffer; false when it must be applied on its
    /// own, in order (after what is folded for that table).
    private mutating func fold(_ described: Table, _ add: (inout NetChanges) throws(UnappliableChange) -> Bool) throws(UnappliableChange) -> Bool {
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
            flush(table.oid)
            return false
        }
        group?.changes += 1
        bufferedCount += 1
        bufferedBytes += buffers[table.oid]!.bytes - before
        if bufferedCount >= limits.buffered || bufferedBytes >= limits.bufferedBytes { flushAll() }
        return true
    }

    /// Turns every buffer into statements and sends them: the flush exists to bound memory,
    /// so its statements (whose array parameters hold the rows) must not wait for more.
    private mutating func flushAll() {
        for oid in bufferOrder { flush(oid) }
        bufferOrder.removeAll()
        buffers.removeAll()
        bufferedCount = 0
        bufferedBytes = 0
        send()
    }

    /// Queues the set-based statements for one table's folded changes and empties its buffer.
    private mutating func flush(_ oid: UInt32) {
        guard let buffer = buffers[oid], !buffer.isEmpty else { return }
        buffers[oid] = NetChanges(relation: buffer.relation, shape: buffer.shape)
        for statement in buffer.statements() {
            if batcher.add(statement, setBased: true) { send() }
        }
    }

    private mutating func queue(_ change: ChangeStatement) {
        group?.changes += 1
        if batcher.add(change, setBased: false) { send() }
    }

    private mutating func queue(_ statement: PipelinedStatement) {
        if batcher.add(statement) { send() }
    }

    /// Sends the pending statements as one batch, and collects the one before it: at most one
    /// batch is in flight while the next is built.
    private mutating func send(committing commit: CommittedGroup? = nil) {
        guard let batch = batcher.take(committing: commit) else { return }
        inFlight.append(batch.receipt)
        actions.append(.send(batch))
        if inFlight.count > 1 { actions.append(.collect(inFlight.removeFirst())) }
    }
}
