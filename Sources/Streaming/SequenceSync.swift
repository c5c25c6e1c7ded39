import Applier
import DatabaseCopy
import PostgresClient

/// Logical replication does not carry sequences: copies their values from the active to the
/// passive, so even an unplanned switch finds them current. Runs on sessions of its own, never
/// inside the applier's transaction; the one on the active only while it reads, so a cutover
/// that ends every session on the active (its fence) seldom meets it, and when it does only
/// this sync fails, not the stream. A sequence missing on the passive is skipped (DDL is not
/// streamed; `check` and the Relation shape test report tables, not sequences).
///
/// Once a cutover has promoted the passive, it is the active and its sequences move on their
/// own: setting them back to the old active's values would hand out numbers twice. So each
/// sync runs in a transaction that first waits out a promotion under way and checks for one
/// (`StreamProgress.lockForSequenceSync`), and the stream stops when it finds one. The values
/// are read inside that transaction too: read before it, they could be older than the ones a
/// cutover copied meanwhile.
final class SequenceSync {
    private let source: ConnectionString
    private let target: Connection
    private let slot: String

    init(source: ConnectionString, target: Connection, slot: String) {
        self.source = source
        self.target = target
        self.slot = slot
    }

    /// Returns how many sequences were set.
    @discardableResult
    func run() async throws -> Int {
        // A sequence someone holds locked on the passive fails this sync after a second, to be
        // tried again, instead of stopping the stream that runs it.
        try await target.execute("BEGIN; SET LOCAL lock_timeout = '1s'")
        do {
            if try await StreamProgress.lockForSequenceSync(slot: slot, on: target) { throw PassivePromoted(slot: slot) }
            let values = try await Connection.with(source) { try await SequenceValues.read(from: $0) }
            let set = try await values.set(on: target)
            try await target.execute("COMMIT")
            return set
        } catch {
            _ = try? await target.execute("ROLLBACK")
            throw error
        }
    }
}
