import DatabaseCopy
import PostgresClient

/// Logical replication does not carry sequences: copies their values from the active to the
/// passive, so even an unplanned switch finds them current. Runs on its own two sessions,
/// never inside the applier's transaction. A sequence missing on the passive is skipped (DDL
/// is not streamed; `check` and the Relation shape test report tables, not sequences).
final class SequenceSync {
    private let source: Connection
    private let target: Connection

    init(source: Connection, target: Connection) {
        self.source = source
        self.target = target
    }

    /// Returns how many sequences were set.
    @discardableResult
    func run() async throws -> Int {
        let sequences = try await source.query("""
            SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS value
            FROM pg_sequences WHERE last_value IS NOT NULL
              AND \(UserSchemas.contain("schemaname"))
            """).rows
        var set = 0
        for sequence in sequences {
            guard let name = sequence["name"], let value = sequence["value"] else { continue }
            let exists = try await target.query("SELECT to_regclass($1) IS NOT NULL", [name]).scalar(Bool.self)
            guard exists else { continue }
            try await target.execute("SELECT pg_catalog.setval($1, $2, true)", [name, value])
            set += 1
        }
        return set
    }
}
