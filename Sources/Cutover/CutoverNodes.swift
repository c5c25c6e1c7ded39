import Applier
import DatabaseCopy
import Fencing
import Foundation
import OperatorErrors
import PostgresClient
import PostgresTypes

/// The cutover's own sessions on the two nodes, open from the lock to the report: they hold
/// the advisory locks, so a second cutover of the same nodes is refused while they live, and
/// they run every step's SQL. They ignore a read-only fence (`overridingReadOnlyFence`): the
/// cutover is what puts it up and takes it down.
final class CutoverNodes: Sendable {
    let active: Connection
    let passive: Connection
    let slot: String

    /// The advisory lock a cutover holds on both nodes ('ccut').
    private static let lockKey = 0x6363_7574

    private init(active: Connection, passive: Connection, slot: String) {
        self.active = active
        self.passive = passive
        self.slot = slot
    }

    static func connect(source: ConnectionString, target: ConnectionString, slot: String) async throws -> CutoverNodes {
        let active = try await Connection.connect(source.overridingReadOnlyFence())
        do {
            let passive = try await Connection.connect(target.overridingReadOnlyFence())
            return CutoverNodes(active: active, passive: passive, slot: slot)
        } catch {
            await active.close()
            throw error
        }
    }

    func close() async {
        await active.close()
        await passive.close()
    }

    /// Asks both servers to cancel what these sessions run, if anything (a session idle by
    /// then ignores it), and returns once both have the request: none is left on its way to
    /// hit a later statement. PQcancel makes a connection of its own: off the cooperative pool.
    func cancelStatements() async {
        let (active, passive) = (self.active, self.passive)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                active.cancel()
                passive.cancel()
                done.resume()
            }
        }
    }

    /// The advisory lock on both nodes, or a refusal naming the node another cutover holds.
    func takeLocks() async throws {
        for (node, name) in [(active, "active"), (passive, "passive")] {
            let taken = try await node.query("SELECT pg_try_advisory_lock(\(Self.lockKey), hashtext(current_database()))").scalar(Bool.self)
            guard taken else {
                throw Refusal("another cutover holds the lock on the \(name) (\(node.dsn.shortDescription))",
                              fix: "wait for it to end (`continuity cutover status`), or stop it")
            }
        }
    }

    /// Commits a logical message, synchronously so the walsender sends it now, and returns its
    /// LSN: every commit the active made before lies before it, and the passive holds them all
    /// once its progress passes it. After the pause it is the cutover's marker; in preflight a
    /// probe the cutover's own stream is timed on.
    func emitMessage(_ prefix: String) async throws -> LSN {
        try await active.execute("BEGIN; SET LOCAL synchronous_commit = on")
        do {
            let lsn = try await active.query("SELECT pg_logical_emit_message(true, $1, $2)", [prefix, slot]).scalar(LSN.self)
            try await active.execute("COMMIT")
            return lsn
        } catch {
            _ = try? await active.execute("ROLLBACK")
            throw error
        }
    }

    /// The pid of a walsender following the slot on the active (a running `continuity stream`).
    func streamFollowing() async throws -> String? {
        try await active.query("SELECT active_pid::text FROM pg_replication_slots WHERE slot_name = $1", [slot]).rows.first?["active_pid"]
    }

    /// Where the passive's progress for the slot stands.
    func progress() async throws -> LSN? {
        try await StreamProgress.read(slot: slot, on: passive)?.lsn
    }

    /// Every sequence's value from the fenced active to the passive; returns how many were set.
    func copySequences() async throws -> Int {
        try await SequenceValues.read(from: active).set(on: passive)
    }

    /// The old active's database read-only for new sessions, and every other client session on
    /// it ended, waiting until each has exited: a client that bypasses the router (a cron job,
    /// psql, another pooler) cannot commit after the cutover LSN. A session that cannot be
    /// ended (a superuser's, for a cutover run by another role) fails the step.
    func fenceOldActive() async throws {
        try await Self.fence(active)
    }

    static func fence(_ active: Connection) async throws {
        try await ReadOnlyFence.put(on: active)
    }

    /// The mark that stops any stream into the passive for good, then its database writable.
    func promotePassive() async throws {
        try await Self.promote(passive, slot: slot)
    }

    static func promote(_ passive: Connection, slot: String) async throws {
        try await StreamProgress.markPromoted(slot: slot, on: passive)
        try await unfence(passive)
    }

    func unfenceOldActive() async throws {
        try await Self.unfence(active)
    }

    /// `--reverse`: the publication and a slot on the new active (the passive) while clients are
    /// still paused, and on the old active a progress row at the slot's consistent point, so a
    /// stream from the new active into the old one starts exactly at the cutover.
    func prepareReverse(slot reverseSlot: String, publication: String, passiveDSN: ConnectionString) async throws -> LSN {
        try await StreamPublication.ensure(publication, on: passive)
        guard try await !Self.hasSlot(reverseSlot, on: passive) else {
            throw Failure("slot \(reverseSlot) already exists on the new active (\(passiveDSN.shortDescription)), so the reverse stream was not prepared",
                          fix: "drop it and make the reverse stream by hand (`snapshot --slot` or `stream --init copy`), or name another with --reverse-slot next time")
        }
        let point = try await Connection.with(passiveDSN, options: .init(replication: true)) {
            try await $0.createLogicalSlot(reverseSlot, snapshot: .noExport).consistentPoint
        }
        try await StreamProgress.start(slot: reverseSlot, at: point, on: active)
        return point
    }

    static func hasSlot(_ name: String, on node: Connection) async throws -> Bool {
        try await !node.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [name]).rows.isEmpty
    }

    /// After a completed cutover: the forward slot on the old active is of no more use, and
    /// would hold its WAL for ever (the reverse stream writes there). A stream still attached
    /// is ended first (it has stopped applying: the passive is promoted).
    func dropForwardSlot() async throws {
        try await Self.dropSlot(slot, on: active)
    }

    /// Drops a slot, ending the walsender that holds it first. Also what settling a cutover
    /// does with the forward slot and an unvouched reverse one (the dead-man's switch or
    /// `--recover`); a slot already gone, or dropped by a cutover still running meanwhile, is done.
    static func dropSlot(_ slot: String, on node: Connection) async throws {
        for _ in 0..<50 {
            let row = try await node.query("SELECT active_pid::text AS pid FROM pg_replication_slots WHERE slot_name = $1", [slot]).rows.first
            guard let row else { return }
            if let pid = row["pid"] {
                try await node.execute("SELECT pg_terminate_backend($1::int)", [pid])
                try await Task.sleep(for: .milliseconds(20))  // the walsender lets go of the slot as it exits
                continue
            }
            do {
                try await node.execute("SELECT pg_drop_replication_slot($1)", [slot])
                return
            } catch let error as ServerError where error.sqlState == "55006" || error.sqlState == "42704" {
                continue  // taken again meanwhile (a stream reconnecting; it stops on the promoted mark), or just dropped
            }
        }
        throw Failure("slot \(slot) stayed in use, so it was not dropped: drop it by hand", fix: "stop the stream following it, then drop the slot by hand")
    }

    static func unfence(_ node: Connection) async throws {
        try await ReadOnlyFence.lift(on: node)
    }

}
