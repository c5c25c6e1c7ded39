import PostgresClient
import PostgresTypes
import SnapshotFormat

/// The tables and sequences a snapshot carries, read under the snapshot itself.
public struct SourceInventory {
    public struct Table: Sendable {
        public let oid: UInt32
        public let schema: String
        public let name: String
        /// Quoted column names for COPY; generated columns are left out (they are recomputed).
        public let columns: [String]
        public let blocks: Int64
        /// An extension's configuration table (`pg_extension_config_dump`) carries only the rows
        /// its filter selects (`WHERE NOT standard`, as the extension registered it): the others
        /// are the extension's own, which `CREATE EXTENSION` puts back. pg_dump does the same.
        public let extensionFilter: String?

        public var qualifiedName: String { PostgresTypes.qualifiedName(schema, name) }
        public var displayName: String { "\(schema).\(name)" }

        /// COPY of the rows `condition` selects (a part's block range), or of all of them. A
        /// table with an extension filter is always one part (`TablePart.parts`), so the two
        /// never meet.
        public func copyOutSQL(where condition: String?) -> String {
            let filter = condition.map { " WHERE \($0)" } ?? extensionFilter.map { " \($0)" } ?? ""
            return "COPY (SELECT \(columns.joined(separator: ", ")) FROM ONLY \(qualifiedName)\(filter)) TO STDOUT"
        }

        public var copyInSQL: String { copyInStatement(schema: schema, name: name, columns: columns) }
    }

    public struct Sequence: Sendable {
        public let schema: String
        public let name: String
    }

    /// Leaf tables with storage: plain tables and partitions (a partitioned parent holds no
    /// rows), unlogged ones included; not tables owned by extensions, which recreate them —
    /// except the extensions' configuration tables, whose user rows pg_dump carries too.
    public static func tables(_ connection: Connection) async throws -> [Table] {
        let tables = try await connection.query("""
            SELECT c.oid, n.nspname, c.relname,
                   (pg_relation_size(c.oid) / current_setting('block_size')::bigint) AS blocks,
                   (SELECT nullif(e.extcondition[array_position(e.extconfig, c.oid)], '')
                    FROM pg_extension e WHERE c.oid = ANY (e.extconfig) LIMIT 1) AS filter
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
                         columns: columns[oid] ?? [], blocks: try row.decode("blocks"), extensionFilter: row["filter"])
        }
    }

    private static let userTable = """
        c.relkind = 'r'
        AND \(UserSchemas.contain())
        AND (NOT EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
             OR EXISTS (SELECT 1 FROM pg_extension e WHERE c.oid = ANY (e.extconfig)))
        """

    /// Materialized views holding data, which restore must refresh.
    public static func populatedMaterializedViews(_ connection: Connection) async throws -> [Manifest.Relation] {
        try await connection.query("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'm' AND c.relispopulated AND \(UserSchemas.contain())
            ORDER BY 1, 2
            """).rows.map { Manifest.Relation(schema: try $0.decode("nspname"), name: try $0.decode("relname")) }
    }

    /// Every sequence with its value as the connection's snapshot sees it.
    public static func sequenceValues(_ connection: Connection) async throws -> [Manifest.Sequence] {
        var values: [Manifest.Sequence] = []
        for sequence in try await sequences(connection) {
            let row = try await connection.query(
                "SELECT last_value, is_called FROM \(PostgresTypes.qualifiedName(sequence.schema, sequence.name))").rows[0]
            values.append(.init(schema: sequence.schema, name: sequence.name,
                                lastValue: try row.decode("last_value"), isCalled: try row.decode("is_called")))
        }
        return values
    }

    public static func sequences(_ connection: Connection) async throws -> [Sequence] {
        try await connection.query("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'S' AND \(UserSchemas.contain())
            ORDER BY 1, 2
            """).rows.map { Sequence(schema: try $0.decode("nspname"), name: try $0.decode("relname")) }
    }
}

/// COPY into a table from the client. A table with no columns (`CREATE TABLE t ()`) still has
/// rows: its COPY takes no column list, as `COPY t () FROM STDIN` is a syntax error.
/// (`SELECT FROM t`, which reads it, is valid.)
public func copyInStatement(schema: String, name: String, columns: [String]) -> String {
    "COPY \(qualifiedName(schema, name))" + (columns.isEmpty ? "" : " (\(columns.joined(separator: ", ")))") + " FROM STDIN"
}
