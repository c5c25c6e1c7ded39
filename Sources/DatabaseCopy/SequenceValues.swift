import Foundation
import PostgresClient

/// Logical replication does not carry sequences: their values, read on one node and set on
/// another, one round trip each. A sequence never used (no last value) is left as it is.
public struct SequenceValues: Sendable, Equatable {
    /// Qualified, quoted name → last value, as text.
    public let values: [String: String]

    public static func read(from source: Connection) async throws -> SequenceValues {
        let rows = try await source.query("""
            SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS value
            FROM pg_sequences WHERE last_value IS NOT NULL AND \(UserSchemas.contain("schemaname"))
            """).rows
        var values: [String: String] = [:]
        for row in rows {
            if let name = row["name"], let value = row["value"] { values[name] = value }
        }
        return SequenceValues(values: values)
    }

    /// Sets every one of them the target has (by name); returns how many were set.
    @discardableResult
    public func set(on target: Connection) async throws -> Int {
        guard !values.isEmpty else { return 0 }
        let json = String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
        return try await target.query("""
            SELECT count(pg_catalog.setval(c.oid, v.value::bigint, true))
            FROM jsonb_each_text($1::jsonb) AS v(name, value)
            JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(v.name) AND c.relkind = 'S'
            """, [json]).scalar(Int.self)
    }
}
