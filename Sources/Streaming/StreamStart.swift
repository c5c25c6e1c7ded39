import Applier
import DatabaseCopy
import OperatorErrors
import PostgresClient
import PostgresTypes

/// Where a stream into this passive starts, decided before anything is created on the active.
/// A stream starts exactly where the passive's data ends (README, Stream): its progress
/// row, the slot the snapshot it was restored from kept (`snapshot --slot`), or `--init copy`.
/// A slot made at "now" for a passive that holds data would skip every write between its data
/// and now, silently, so that happens only when the operator says the passive is in sync.
enum StreamStart: Equatable {
    /// The passive's progress row for the slot says where.
    case resume
    /// The passive was restored from snapshot `id`, kept through this slot, which nothing has
    /// used past the snapshot's LSN: progress is recorded at `lsn` and the stream goes from there.
    case snapshot(id: String, lsn: LSN)
    /// `--init copy`; `dropSlot`: with `--clean`, the slot goes first (it is made again with the copy's snapshot).
    case copy(dropSlot: Bool)
    /// `--assume-in-sync`: the operator vouches for the passive; a missing slot is made now.
    case inSync(createSlot: Bool)

    /// What the passive holds.
    struct Passive: Equatable {
        var progress: LSN?
        var restore: RestoreRecord?
        /// What it holds that an initial copy would collide with (`TargetContents`).
        var contents: TargetContents
    }

    /// The active, and the slot as it stands there (nil when it does not exist).
    struct Active: Equatable {
        var database: String
        var systemIdentifier: String
        var slot: Slot?

        struct Slot: Equatable {
            var database: String?
            var plugin: String?
            var confirmedFlush: LSN?
        }
    }

    /// The options the decision depends on.
    struct Request: Equatable {
        var slot: String
        var publication: String
        var initMode: StreamOptions.InitMode
        var clean: Bool
        var assumeInSync: Bool
    }

    static func decide(_ request: Request, passive: Passive, active: Active) throws -> StreamStart {
        let slot = request.slot
        // --init copy --clean re-initialises, whatever the passive holds: it is what the
        // operator runs after a divergence, and resuming there would stop at it again.
        if request.initMode == .copy && request.clean { return .copy(dropSlot: active.slot != nil) }
        if let progress = passive.progress {
            if let found = active.slot {
                // The stream records a position before it reports it, so a slot past the
                // passive's progress was followed by something else: what it took went there.
                if let confirmed = found.confirmedFlush, confirmed > progress, !request.assumeInSync {
                    throw SlotMovedOn(slot: slot, confirmed: confirmed, applied: progress)
                }
                return request.assumeInSync && found.confirmedFlush.map({ $0 > progress }) == true ? .inSync(createSlot: false) : .resume
            }
            if request.assumeInSync { return .inSync(createSlot: true) }
            throw Refusal("the passive has applied slot \(slot) up to \(progress), but the active has no slot \(slot) (dropped?): the changes after \(progress) are gone",
                          fix: "re-initialise the passive: --init copy --clean, or `snapshot --slot \(slot)` then `restore --clean` and stream")
        }
        let kept = keptSlot(request, passive: passive, active: active)
        if case .start(let start) = kept { return start }
        if request.initMode == .copy {
            if let holding = passive.contents.holding {
                throw Refusal("the passive is not empty (\(holding)), so --init copy cannot copy into it",
                              fix: "use an empty database, or pass --clean to drop what is there first")
            }
            guard active.slot == nil else {
                throw Refusal("slot \(slot) exists on the active, but this passive has no progress for it, so it cannot have been copied under its snapshot",
                              fix: "re-run with --clean to drop and re-create the slot and the passive's tables")
            }
            return .copy(dropSlot: false)
        }
        if request.assumeInSync { return .inSync(createSlot: active.slot == nil) }
        let reason: String
        if case .mismatch(let why) = kept {
            reason = why
        } else if passive.contents.userRelations > 0 {
            reason = "the passive holds \(passive.contents.userRelations) tables, views or sequences but has no progress for slot \(slot) and was not restored from a snapshot that kept it: a stream from now would miss every write before now"
        } else {
            throw Refusal("the passive is empty and has no progress for slot \(slot): there is nothing to stream into",
                          fix: "use --init copy")
        }
        throw Refusal(reason, fix: "use --init copy (--clean to replace what the passive holds), or `snapshot --slot \(slot)` then `restore --clean` and stream; "
                         + "only if writes are stopped and the passive matches the active now, add --assume-in-sync")
    }

    /// What the snapshot the passive was restored from offers this stream.
    enum KeptSlot: Equatable {
        case notRestored
        /// Why its slot cannot start this stream.
        case mismatch(String)
        case start(StreamStart)
    }

    /// The start at the restored snapshot's LSN, when its kept slot is this one, on this
    /// database of this cluster, and nothing has consumed it past that LSN (a stream from
    /// there would otherwise miss what went elsewhere).
    static func keptSlot(_ request: Request, passive: Passive, active: Active) -> KeptSlot {
        let slot = request.slot
        guard let restore = passive.restore else { return .notRestored }
        let snapshot = "the passive was restored from snapshot \(restore.snapshotID)"
        guard let kept = restore.slot else {
            return .mismatch("\(snapshot), which kept no slot (taken without --slot): the writes after its LSN \(restore.lsn) cannot be streamed")
        }
        guard kept.name == slot else {
            return .mismatch("\(snapshot), which kept slot \(kept.name), not \(slot): run with --slot \(kept.name)")
        }
        guard kept.publication == request.publication else {
            return .mismatch("\(snapshot), whose slot \(slot) reads through publication \(kept.publication), not \(request.publication): run with --publication \(kept.publication)")
        }
        guard restore.sourceSystemIdentifier == active.systemIdentifier else {
            return .mismatch("\(snapshot), taken on another cluster (system \(restore.sourceSystemIdentifier); the active is \(active.systemIdentifier))")
        }
        guard let found = active.slot else {
            return .mismatch("\(snapshot), whose slot \(slot) is no longer on the active (dropped?): the writes after its LSN \(restore.lsn) are gone")
        }
        guard found.database == active.database, found.plugin == "pgoutput" else {
            return .mismatch("\(snapshot), but slot \(slot) on the active is not the one it kept (database \(found.database ?? "none"), plugin \(found.plugin ?? "none"))")
        }
        guard let confirmed = found.confirmedFlush, confirmed <= restore.lsn else {
            return .mismatch("\(snapshot), but slot \(slot) has been used past its LSN \(restore.lsn) (confirmed up to \(found.confirmedFlush?.description ?? "unknown")): what was streamed from it went elsewhere")
        }
        return .start(.snapshot(id: restore.snapshotID, lsn: restore.lsn))
    }
}

extension StreamStart.Passive {
    static func read(slot: String, on target: Connection) async throws -> Self {
        Self(progress: try await StreamProgress.read(slot: slot, on: target)?.lsn,
             restore: try await RestoreRecord.latest(on: target),
             contents: try await TargetContents.read(target))
    }
}

extension StreamStart.Active {
    static func read(slot: String, on source: Connection) async throws -> Self {
        let head = try await source.query("""
            SELECT current_database() AS database, (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier
            """).rows[0]
        let found = try await source.query("""
            SELECT database, plugin, confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1
            """, [slot]).rows.first
        return Self(database: try head.decode("database"), systemIdentifier: try head.decode("system_identifier"),
                    slot: found.map { Slot(database: $0["database"], plugin: $0["plugin"], confirmedFlush: $0["confirmed_flush_lsn"].flatMap { LSN($0) }) })
    }
}
