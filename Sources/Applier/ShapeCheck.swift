import PgOutput
import PostgresClient

/// DDL is not streamed: a table whose columns differ from what the active's Relation message
/// describes stops the stream with the difference spelled out.
enum ShapeCheck {
    /// What the applier needs to know of the passive's table besides its columns' names.
    struct Shape {
        /// GENERATED ALWAYS identity columns, which an UPDATE may not set.
        let alwaysIdentity: Set<String>
        /// Each column's type, for casts from text.
        let types: [String]
    }

    static func check(_ relation: Relation, on connection: isolated Connection) throws -> Shape {
        let rows = try connection.query("""
            SELECT a.attname, a.attidentity = 'a' AS always, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
            WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attnum
            """, [qualifiedName(relation.namespace, relation.name)]).rows
        let passive = rows.compactMap { $0["attname"] }
        let active = relation.columns.map(\.name)
        guard passive != active else {
            return Shape(alwaysIdentity: Set(rows.filter { $0["always"] == "t" }.compactMap { $0["attname"] }),
                         types: rows.compactMap { $0["type"] })
        }
        throw UnappliableChange(table: "\(relation.namespace).\(relation.name)",
                                reason: Self.difference(active: active, passive: passive) + ". DDL is not streamed: apply it to the passive first")
    }

    static func difference(active: [String], passive: [String]) -> String {
        guard !passive.isEmpty else { return "it does not exist on the passive" }
        let missing = active.filter { !passive.contains($0) }, extra = passive.filter { !active.contains($0) }
        return "its columns differ: active (\(active.joined(separator: ", "))), passive (\(passive.joined(separator: ", ")))"
            + (missing.isEmpty ? "" : "; missing on the passive: \(missing.joined(separator: ", "))")
            + (extra.isEmpty ? "" : "; only on the passive: \(extra.joined(separator: ", "))")
    }
}
