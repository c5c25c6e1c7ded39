import PgOutput
import PostgresClient

/// Applies decoded pgoutput messages to the passive, exactly once across crashes.
///
/// Source transactions are grouped: one passive transaction holds several whole source
/// transactions (never part of one) and also writes the slot's progress
/// (`continuity.stream_progress`: the last commit's end LSN). Either all of it commits or none
/// of it, so after a crash the progress row says exactly what is in, and a transaction the
/// stream sends again whose commit lies before it is skipped.
///
/// Changes go out as prepared statements through libpq's pipeline, up to
/// `Connection.pipelineLimit` per round trip, so neither a large transaction nor a group is
/// ever held in memory. The session runs with `session_replication_role = replica`, so the
/// passive's triggers and foreign keys do not fire a second time for changes the active
/// already checked.
///
/// The applier runs on its connection's own thread (it shares the connection's executor),
/// so every libpq call below is a plain synchronous call.
public actor StreamApplier {
    /// When a group is committed even though more changes are waiting: bounds the work a crash
    /// redoes and how long the passive's state stays invisible.
    public struct GroupLimits: Sendable {
        public var changes = 20_000
        public var age: Duration = .milliseconds(250)
        public init() {}
    }

    private let connection: Connection
    private let slot: String
    private let limits: GroupLimits
    /// Everything up to here is committed on the passive.
    public private(set) var appliedLSN: LSN
    /// Source transactions and row changes committed on the passive by this session.
    public private(set) var transactions = 0
    public private(set) var changes: Int64 = 0
    private var relations: [UInt32: Relation] = [:]
    private var alwaysIdentity: [UInt32: Set<String>] = [:]
    private var sourceTransaction = SourceState.none
    private var group: Group?
    private var pending: [PipelinedStatement] = []
    /// For each pending statement: the table whose one row it must change, if any.
    private var expectations: [String?] = []
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

    private init(connection: Connection, slot: String, appliedLSN: LSN, limits: GroupLimits) {
        self.connection = connection
        self.slot = slot
        self.appliedLSN = appliedLSN
        self.limits = limits
    }

    /// Prepares the passive session and reads where the slot's progress stands.
    public static func open(on connection: Connection, slot: String, limits: GroupLimits = .init()) async throws -> StreamApplier {
        try await connection.execute("SET session_replication_role = replica")
        try await StreamProgress.createTable(on: connection)
        let applied = try await StreamProgress.read(slot: slot, on: connection)?.lsn ?? .zero
        return StreamApplier(connection: connection, slot: slot, appliedLSN: applied, limits: limits)
    }

    /// True while a source transaction is half received: the group cannot end here.
    public var isInSourceTransaction: Bool { sourceTransaction != .none }

    /// Nothing received is left uncommitted.
    public var isIdle: Bool { group == nil && sourceTransaction == .none }

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
            try send()  // the shape check reads the catalogue between pipelines
            alwaysIdentity[relation.oid] = try connection.assumeIsolated { try ShapeCheck.check(relation, on: $0) }
            relations[relation.oid] = relation
        case .type, .origin:
            break
        case .insert(let insert):
            guard sourceTransaction == .applying else { return }
            try queue(try ChangeSQL.insert(insert, into: try relation(insert.relation)))
        case .update(let update):
            guard sourceTransaction == .applying else { return }
            let table = try relation(update.relation)
            if let statement = try ChangeSQL.update(update, of: table, alwaysIdentity: alwaysIdentity[update.relation] ?? []) { try queue(statement, findsOneRowOf: table) }
        case .delete(let delete):
            guard sourceTransaction == .applying else { return }
            let table = try relation(delete.relation)
            try queue(try ChangeSQL.delete(delete, from: table), findsOneRowOf: table)
        case .truncate(let truncate):
            guard sourceTransaction == .applying else { return }
            try queue(ChangeSQL.truncate(truncate, relations: try truncate.relations.map(relation)))
        }
    }

    /// Commits the passive transaction under way with the progress of its last source
    /// transaction. Only between source transactions; otherwise it waits for the next commit.
    public func endGroup() throws {
        guard let group, sourceTransaction == .none else { return }
        guard let end = group.lastEnd else {
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
        try send()
        self.group = nil
        appliedLSN = end
        transactions += group.transactions
        changes += group.changes
    }

    /// Abandons what is not committed (a stop mid-group): nothing of it stays, and the next run
    /// receives it again from the recorded position.
    public func rollBackInFlight() throws {
        pending.removeAll()
        expectations.removeAll()
        if group != nil { try connection.assumeIsolated { _ = try $0.execute("ROLLBACK") } }
        group = nil
        sourceTransaction = .none
    }

    private func relation(_ oid: UInt32) throws -> Relation {
        guard let relation = relations[oid] else {
            throw UnappliableChange(table: "relation \(oid)", reason: "a change arrived before its Relation message")
        }
        return relation
    }

    private func queue(_ change: ChangeStatement, findsOneRowOf table: Relation? = nil) throws {
        group?.changes += 1
        try queue(PipelinedStatement(change.sql, change.parameters, prepared: true),
                  expecting: table.map { "\($0.namespace).\($0.name)" })
    }

    private func queue(_ statement: PipelinedStatement, expecting table: String? = nil) throws {
        pending.append(statement)
        expectations.append(table)
        if pending.count >= Connection.pipelineLimit { try send() }
    }

    /// Sends the pending statements in one pipeline. An update or delete that finds no row
    /// means the passive has diverged: stop, loudly.
    private func send() throws {
        guard !pending.isEmpty else { return }
        let statements = pending, tables = expectations
        pending.removeAll(keepingCapacity: true)
        expectations.removeAll(keepingCapacity: true)
        let counts = try connection.assumeIsolated { try $0.pipeline(statements) }
        for (table, count) in zip(tables, counts) {
            if let table, count != 1 {
                throw UnappliableChange(table: table, reason: "the row to change is not on the passive (\(count ?? 0) rows matched); the passive has diverged and must be re-initialised")
            }
        }
    }
}
