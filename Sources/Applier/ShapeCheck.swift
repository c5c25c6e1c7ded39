import PgOutput
import PostgresClient
import PostgresTypes

/// DDL is not streamed: a table whose columns differ from what the active's Relation message
/// describes stops the stream with the difference spelled out.
enum ShapeCheck {
    static func check(_ relation: Relation, on connection: isolated Connection) throws -> TableShape {
        // The cast type drops the modifier (-1: `bpchar` and `"bit"` are unbounded, where
        // `character` and `bit` would mean length 1). Equality: the equal operator of the
        // default btree operator class for the type, or for a domain's base type.
        let rows = try connection.query("""
            SELECT a.attname, a.attidentity = 'a' AS always, format_type(a.atttypid, -1) AS cast_type,
                   (SELECT format('OPERATOR(%I.%s)', n.nspname, o.oprname)
                    FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
                    JOIN pg_amop ao ON ao.amopfamily = oc.opcfamily AND ao.amopstrategy = 3
                                   AND ao.amoplefttype = oc.opcintype AND ao.amoprighttype = oc.opcintype
                    JOIN pg_operator o ON o.oid = ao.amopopr JOIN pg_namespace n ON n.oid = o.oprnamespace
                    WHERE am.amname = 'btree' AND oc.opcdefault
                      AND oc.opcintype = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
                    LIMIT 1) AS equality
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attnum
            """, [qualifiedName(relation.namespace, relation.name)]).rows
        let passive = rows.compactMap { $0["attname"] }
        let active = relation.columns.map(\.name)
        // Compared as bytes, as PostgreSQL compares names (Swift's == would equate canonically equivalent ones).
        guard passive.count == active.count, zip(passive, active).allSatisfy(sameBytes) else {
            throw UnappliableChange(table: "\(relation.namespace).\(relation.name)",
                                    reason: Self.difference(active: active, passive: passive) + ". DDL is not streamed: apply it to the passive first")
        }
        return TableShape(castTypes: rows.compactMap { $0["cast_type"] }, equality: rows.map { $0["equality"] },
                          alwaysIdentity: Set(rows.filter { $0["always"] == "t" }.compactMap { $0["attname"] }))
    }

    static func difference(active: [String], passive: [String]) -> String {
        guard !passive.isEmpty else { return "it does not exist on the passive" }
        let missing = active.filter { !passive.contains($0) }, extra = passive.filter { !active.contains($0) }
        return "its columns differ: active (\(active.joined(separator: ", "))), passive (\(passive.joined(separator: ", ")))"
            + (missing.isEmpty ? "" : "; missing on the passive: \(missing.joined(separator: ", "))")
            + (extra.isEmpty ? "" : "; only on the passive: \(extra.joined(separator: ", "))")
    }
}
