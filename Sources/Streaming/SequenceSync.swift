import Applier
import DatabaseCopy
import PostgresClient

/// Logical replication does not carry sequences: copies their values from the active to the
/// passive, so even an unplanned switch finds them current. Runs on its own two sessions,
/// never inside the applier's transaction. A sequence missing on the passive is skipped (DDL
/// is not streamed; `check` and the Relation shape test report tables, not sequences).
///
/// Once a cutover has promoted the passive, it is the active and its sequences move on their
/// own: setting them back to the old active's values would hand out numbers twice. So each
/// sync runs in a transaction that first waits out a promotion under way and checks for one
/// (`StreamProgress.lockForSequenceSync`), and the stream stops when it finds one.
final class SequenceSync {
    private let source: Connection
    private let target: Connection
    private let slot: String

    init(source: Connection, target: Connection, slot: String) {
        self.source = source
        self.target = target
        self.slot = slot
    }

    /// Returns how many sequences were set.
    @discardableResult
    func run() async throws -> Int {
        let values = try await SequenceValues.read(from: source)
        try await target.execute("BEGIN")
        do {
            if try await StreamProgress.lockForSequenceSync(slot: slot, on: target) { throw PassivePromoted(slot: slot) }
            let set = try await values.set(on: target)
            try await target.execute("COMMIT")
            return set
        } catch {
            _ = try? await target.execute("ROLLBACK")
            throw error
        }
    }
}
