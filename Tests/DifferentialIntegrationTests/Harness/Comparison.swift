import PostgresClient
import TestSupport

/// Compares a target with the source, table by table, under fixed session settings.
enum Comparison {
    /// Which of the case's tables each relation (the table, or any of its partitions) belongs to.
    static func owners(_ tables: [Table], in source: ConnectionString) async throws -> [String: Int] {
        try await withConnection(source) { connection in
            var owners: [String: Int] = [:]
            for table in tables {
                let rows = try await connection.query("""
                    SELECT format('%I.%I', n.nspname, c.relname) AS name
                    FROM pg_partition_tree(\(Literal.quoted(table.name))::regclass) t
                    JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
                    """).rows
                for row in rows { if let name = row["name"] { owners[name] = table.index } }
            }
            return owners
        }
    }

    static func compare(_ scenario: Feature, source: ConnectionString, target: ConnectionString,
                        owners: [String: Int], into outcome: inout Outcome) async throws {
        let (expected, actual) = (try await DatabaseDigest.of(source), try await DatabaseDigest.of(target))
        var shown = 0
        for name in Set(expected.tables.keys).union(actual.tables.keys).sorted() where expected.tables[name] != actual.tables[name] {
            var problem = "\(name): source \(expected.tables[name] ?? "missing"), target \(actual.tables[name] ?? "missing")"
            if shown < 3, expected.tables[name] != nil, actual.tables[name] != nil {
                shown += 1
                problem += try await rowDifference(name, source: source, target: target)
            }
            outcome.add(scenario, problem, tables: owners[name].map { [$0] } ?? [])
        }
        for name in Set(expected.sequences.keys).union(actual.sequences.keys).sorted() where expected.sequences[name] != actual.sequences[name] {
            outcome.add(scenario, "sequence \(name): source \(expected.sequences[name] ?? "missing"), target \(actual.sequences[name] ?? "missing")")
        }
    }

    /// Up to four rows only the source has and four only the target has.
    private static func rowDifference(_ table: String, source: ConnectionString, target: ConnectionString) async throws -> String {
        var remaining = try await DatabaseDigest.rows(of: table, in: source)
        var extra: [String] = []
        for row in try await DatabaseDigest.rows(of: table, in: target) {
            if let i = remaining.firstIndex(of: row) { remaining.remove(at: i) } else { extra.append(row) }
        }
        func clip(_ row: String) -> String { row.count > 240 ? String(row.prefix(240)) + "…" : row }
        return "\n    only on the source: " + (remaining.prefix(4).map(clip).joined(separator: "\n                        ").nonEmpty ?? "-")
            + "\n    only on the target: " + (extra.prefix(4).map(clip).joined(separator: "\n                        ").nonEmpty ?? "-")
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
