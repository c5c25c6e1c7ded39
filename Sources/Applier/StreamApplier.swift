import PgOutput
import PostgresClient
import PostgresTypes

/// Applies decoded pgoutput messages to the passive, exactly once across crashes.
///
/// The decisions below are `ApplyStateMachine`'s, which has no I/O and is unit-tested from
/// captured messages; this actor runs the actions it asks for on the passive's connection
/// and hands the answers back.
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
    private var machine: ApplyStateMachine
    /// continuity's own tables are not applied (`OwnTables`).
    private var ownTables = OwnTables()

    public nonisolated var unownedExecutor: UnownedSerialExecutor { connection.unownedExecutor }

    private init(connection: Connection, slot: String, machine: ApplyStateMachine) {
        self.connection = connection
        self.slot = slot
        self.machine = machine
    }

    /// The advisory lock class of a slot's applier on the passive ('capl').
    static let applierLockKey = 0x6361_706C

    /// Prepares the passive session and reads where the slot's progress stands.
    public static func open(on connection: Connection, slot: String, limits: GroupLimits = .init(),
                            sequentialThrough: LSN? = nil) async throws -> StreamApplier {
        try await connection.execute("""
            SET session_replication_role = replica;
            SELECT CASE WHEN current_setting('synchronous_commit') = 'off' THEN set_config('synchronous_commit', 'local', false) END
            """)
        try await StreamProgress.createTable(on: connection)
        // One applier per slot and passive, held for this session's life and taken before the
        // progress is read: a second stream (the agent's, retrying, while a cutover follows the
        // slot itself) that read the progress before the first one's last commit would start
        // from there and apply those transactions again. 55006, "object in use": tried again.
        let alone = try await connection.query("SELECT pg_try_advisory_lock(\(Self.applierLockKey), hashtext($1))", [slot]).scalar(Bool.self)
        guard alone else {
            throw ServerError(sqlState: "55006", message: "another stream applies slot \(slot) into this passive",
                              hint: "one stream per slot and passive: stop the other one", statement: "the applier's lock")
        }
        let progress = try await StreamProgress.read(slot: slot, on: connection)
        if progress?.promotedAt != nil { throw PassivePromoted(slot: slot) }
        let applied = progress?.lsn ?? .zero
        return StreamApplier(connection: connection, slot: slot, machine: ApplyStateMachine(
            slot: slot, appliedLSN: applied, limits: limits, sequentialThrough: sequentialThrough))
    }

    /// Everything up to here is committed on the passive.
    public var appliedLSN: LSN { machine.appliedLSN }

    /// True while a source transaction is half received: the group cannot end here.
    public var isInSourceTransaction: Bool { machine.isInSourceTransaction }

    /// Nothing received is left uncommitted.
    public var isIdle: Bool { machine.isIdle }

    public func apply(_ messages: some Sequence<PgOutputMessage>) throws {
        for message in messages { try apply(message) }
    }

    public func apply(_ message: PgOutputMessage) throws {
        guard let message = ownTables.filter(message) else { return }
        do {
            try machine.receive(message)
        } catch {
            // What was decided before the change that cannot be applied still goes out first,
            // so an error of the passive's on an earlier batch is the one reported.
            try perform()
            throw error
        }
        try perform()
    }

    /// Commits the passive transaction under way with the progress of its last source
    /// transaction. Only between source transactions; otherwise it waits for the next commit.
    /// The COMMIT goes out without waiting for it: the passive commits while the next group
    /// is received and folded. `appliedLSN` moves when its answer is collected (`drain`).
    public func endGroup(ifOpenFor age: Duration = .zero) throws {
        machine.endGroup(ifOpenFor: age)
        try perform()
    }

    /// Records that everything before `lsn` is applied while nothing is under way (a keepalive
    /// said the active has sent all it has up to there), so it may be reported as flushed.
    public func recordIdle(at lsn: LSN) throws {
        guard let position = machine.idlePosition(lsn) else { return }
        try connection.assumeIsolated { connection in
            _ = try connection.execute(StreamProgress.advanceSQL, [slot, position.description])
        }
        machine.idleRecorded(at: position)
    }

    /// Waits for every batch sent; afterwards `appliedLSN` covers every group ended.
    public func drain() throws {
        machine.drain()
        try perform()
    }

    /// Abandons what is not committed (a stop mid-group): nothing of it stays, and the next run
    /// receives it again from the recorded position. Groups already ended still commit.
    public func rollBackInFlight() throws {
        machine.rollBack()
        try perform()
    }

    /// Runs the actions the machine decided, in order, handing the answers back.
    private func perform() throws {
        do {
            while let action = machine.nextAction() { try perform(action) }
        } catch {
            machine.dropActions()
            throw error
        }
    }

    private func perform(_ action: ApplyAction) throws {
        switch action {
        case .send(let batch):
            try connection.assumeIsolated { try $0.sendPipeline(batch.statements) }
        case .collect(let receipt):
            var failure: ServerError?
            do {
                _ = try connection.assumeIsolated { try $0.collectPipeline() }
            } catch let error as ServerError {
                if error.sqlState == StreamProgress.promotedState { throw PassivePromoted(slot: slot) }
                failure = error
            }
            switch machine.collected(receipt, failure: failure) {
            case .applied: break
            case .diverged(let unappliable): throw unappliable
            case .conflict(let conflict): throw conflict
            case .failed(let error): throw error
            }
        case .discard:
            _ = try? connection.assumeIsolated { try $0.collectPipeline() }
        case .describe(let relation):
            let shape = try connection.assumeIsolated { try ShapeCheck.check(relation, on: $0) }
            machine.described(relation, shape: shape)
        case .rollBack:
            try connection.assumeIsolated { _ = try $0.execute("ROLLBACK") }
        }
    }
}

/// Set-based statements hit a unique or exclusion constraint that changes applied one by one may not:
/// the runner replays from the last commit, applying each change on its own through `through`.
public struct SetBasedConflict: Error, Equatable {
    public let through: LSN
    public let cause: ServerError
}
