import PostgresTypes
import PostgresClient

/// Statements gathered into libpq pipeline batches of at most `Connection.pipelineLimit`, each
/// batch with what its answers will mean (`BatchReceipt`). Pure: the applier sends what it
/// hands out.
///
/// The rows each statement must change do not travel with the batch: they are in its SQL
/// (`RowCountGuard`), because the passive must refuse a wrong count before the group's COMMIT,
/// which is pipelined behind the changes; a count checked here would arrive a batch too late.
struct PipelineBatcher {
    private var pending: [PipelinedStatement] = []
    /// Whether the pending statements include set-based ones (a constraint violation then is a conflict).
    private var setBased = false

    var isEmpty: Bool { pending.isEmpty }

    /// Adds a statement; true when the batch is full and must be sent before the next one.
    mutating func add(_ statement: PipelinedStatement) -> Bool {
        pending.append(statement)
        return pending.count >= Connection.pipelineLimit
    }

    /// Adds a change, prepared (the same text comes back with other values); `setBased`: it
    /// applies a table's folded changes over arrays.
    mutating func add(_ change: ChangeStatement, setBased: Bool) -> Bool {
        if setBased { self.setBased = true }
        return add(PipelinedStatement(change.sql, change.parameters, prepared: true))
    }

    /// The pending statements as a batch (nil when there are none); `commit`: the group whose
    /// COMMIT is its last statement.
    mutating func take(committing commit: CommittedGroup? = nil) -> PipelineBatch? {
        guard !pending.isEmpty else { return nil }
        let batch = PipelineBatch(statements: pending, receipt: BatchReceipt(setBased: setBased, commit: commit))
        pending.removeAll(keepingCapacity: true)
        setBased = false
        return batch
    }

    /// Drops what is pending (a stop mid-group).
    mutating func discard() {
        pending.removeAll()
        setBased = false
    }
}

/// Statements to send in one pipeline, and what their answers mean.
struct PipelineBatch: Equatable {
    let statements: [PipelinedStatement]
    let receipt: BatchReceipt
}

/// What the answers to a batch sent mean, kept until they are collected.
struct BatchReceipt: Equatable {
    /// It holds set-based statements: a unique or exclusion violation is a conflict.
    let setBased: Bool
    /// The group its COMMIT ends, if it carries one.
    let commit: CommittedGroup?
}

/// A group whose COMMIT is in a batch: once its answers are in, the passive holds everything up to `end`.
struct CommittedGroup: Equatable {
    let end: LSN
    let changes: Int64
}
