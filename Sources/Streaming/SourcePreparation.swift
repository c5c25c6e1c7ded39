import DatabaseCopy
import OperatorErrors
import PostgresClient
import PostgresTypes

/// What must hold on the active before a stream starts: the publication exists, every table
/// it carries can be streamed, and the slot is usable and not followed by anyone else.
enum SourcePreparation {
    /// The slot as the active sees it.
    enum SlotState: Equatable {
        case absent
        case free
        case followed(pid: String)
        case invalidated
    }

    /// A refusal, before anything is created, when a table has no usable replica identity.
    static func requireReplicaIdentities(on source: Connection) async throws {
        let missing = try await UserSchemas.tablesLackingReplicaIdentity(source)
        if !missing.isEmpty {
            throw Refusal("no usable replica identity on \(missing.joined(separator: ", ")): their updates and deletes could not be applied on the passive",
                          fix: "add a primary key, or ALTER TABLE … REPLICA IDENTITY USING INDEX <unique index> (or FULL), then re-run")
        }
    }

    /// The publication unless it exists (`StreamPublication`: partitions as themselves).
    static func ensurePublication(_ options: StreamOptions, on source: Connection) async throws {
        try await StreamPublication.ensure(options.publication, on: source)
    }

    /// Before every session, reconnects included: a slot past `applied` is `SlotMovedOn` (the
    /// server would otherwise quietly start from where the slot is). Another consumer taking
    /// the slot between this check and the session's start is not caught; `StreamStart` and
    /// this check catch every case where one took it while this stream was not running.
    static func requireNotPast(_ applied: LSN, slot: String, on source: Connection) async throws {
        let confirmed = try await source.query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1", [slot])
            .rows.first?["confirmed_flush_lsn"].flatMap { LSN($0) }
        if let confirmed, confirmed > applied { throw SlotMovedOn(slot: slot, confirmed: confirmed, applied: applied) }
    }

    static func slotState(_ slot: String, on source: Connection) async throws -> SlotState {
        guard let row = try await source.query("""
            SELECT active_pid::text AS pid, wal_status FROM pg_replication_slots WHERE slot_name = $1
            """, [slot]).rows.first else { return .absent }
        if row["wal_status"] == "lost" { return .invalidated }
        return row["pid"].map { .followed(pid: $0) } ?? .free
    }

    /// The slot's state once a crashed run's walsender has let go of it: that normally takes
    /// moments (it notices its client is gone), so wait up to `wait` before calling it taken.
    static func settledSlotState(_ options: StreamOptions, on source: Connection) async throws -> SlotState {
        let deadline = ContinuousClock.now + options.slotReleaseWait
        var state = try await slotState(options.slot, on: source)
        while case .followed = state, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))  // polling the catalogue with a deadline
            state = try await slotState(options.slot, on: source)
        }
        switch state {
        case .followed(let pid):
            throw Refusal("slot \(options.slot) is being followed by another process (pid \(pid))",
                          fix: "stop that stream first, or give this one its own --slot")
        case .invalidated:
            throw SlotInvalidated(slot: options.slot)
        case .absent, .free:
            return state
        }
    }
}

/// The slot is past what this passive applied. A stream records a position before it reports
/// it, so something else followed the slot (another passive on the same `--slot`, or one that
/// re-created it with its own copy): the changes in between went there, and a stream from here
/// would silently miss them.
public struct SlotMovedOn: OperatorError {
    public let slot: String
    public let confirmed: LSN
    public let applied: LSN
    public var status: ExitStatus { .refused }
    public var problem: String {
        "slot \(slot) on the active has moved past what this passive applied (it is at \(confirmed), the passive at \(applied)): another stream followed it, and the changes in between went there"
    }
    public var fix: String? { "give each passive its own --slot; re-initialise this one with --init copy --clean" }
}

/// The active removed WAL the slot still needed (`max_slot_wal_keep_size`): the changes in it
/// are gone, so the passive cannot be brought up to date by streaming.
public struct SlotInvalidated: OperatorError {
    public let slot: String
    public var status: ExitStatus { .failed }
    public var problem: String {
        "slot \(slot) on the active was invalidated: the passive fell more than max_slot_wal_keep_size behind and the WAL it needed is gone"
    }
    public var fix: String? {
        "re-initialise the passive: SELECT pg_drop_replication_slot('\(slot)') on the active, then `continuity stream --init copy --clean …`"
    }
}
