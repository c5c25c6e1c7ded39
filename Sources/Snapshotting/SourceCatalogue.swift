import PostgresClient

/// The tables and sequences a snapshot carries, read under the snapshot itself.
struct SourceCatalogue {
    struct Table: Sendable {
        let oid: UInt32
        let schema: String
        let name: String
        /// Quoted column names for COPY; generated columns are left out (they are recomputed).
        let columns: [String]
        let blocks: Int64

        var qualifiedName: String { PostgresClient.qualifiedName(schema, name) }
        var displayName: String { "\(schema).\(name)" }
    }

    struct Sequence: Sendable {
        let schema: String
        let name: String
    }

    /// Leaf tables with storage: plain tables and partitions (a partitioned parent holds no
    /// rows), unlogged ones included; not tables owned by extensions, which recreate them.
    static func tables(_ connection: Connection) async throws -> [Table] {
        let tables = try await connection.query("""
            SELECT c.oid, n.nspname, c.relname,
                   (pg_relation_size(c.oid) / current_setting('block_size')::bigint) AS blocks
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE \(userTable)
            ORDER BY blocks DESC, c.oid
            """).rows
        var columns: [UInt32: [String]] = [:]
        for row in try await connection.query("""
            SELECT a.attrelid AS oid, format('%I', a.attname) AS name
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE \(userTable) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attrelid, a.attnum
            """).rows {
            columns[try row.decode("oid"), default: []].append(try row.decode("name"))
        }
        return try tables.map { row in
            let oid: UInt32 = try row.decode("oid")
            return Table(oid: oid, schema: try row.decode("nspname"), name: try row.decode("relname"),
                         columns: columns[oid] ?? [], blocks: try row.decode("blocks"))
        }
    }

    private static let userTable = """
        c.relkind = 'r'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'continuity')
        AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        """

    /// Materialized views holding data, which restore must refresh.
    static func populatedMaterializedViews(_ connection: Connection) async throws -> [(schema: String, name: String)] {
        try await connection.query("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'm' AND c.relispopulated AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'continuity')
            ORDER BY 1, 2
            """).rows.map { (try $0.decode("nspname"), try $0.decode("relname")) }
    }

    static func sequences(_ connection: Connection) async throws -> [Sequence] {
        try await connection.query("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'continuity')
              AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
            ORDER BY 1, 2
            """).rows.map { Sequence(schema: try $0.decode("nspname"), name: try $0.decode("relname")) }
    }
}
