import PostgresClient

/// The one definition of what is the user's in a database: every schema but PostgreSQL's own
/// (catalog, information_schema, TOAST and temporary ones) and continuity's bookkeeping. What
/// a snapshot carries, what makes a target "not empty", what `--clean` drops, which sequences
/// the stream syncs and which tables `check` looks at all follow it.
public enum UserSchemas {
    /// SQL that is true when `schema` (a column or expression naming a schema) is a user schema.
    public static func contain(_ schema: String = "n.nspname") -> String {
        "\(schema) NOT IN ('pg_catalog', 'information_schema', 'continuity') AND \(schema) !~ '^pg_(toast|temp_|toast_temp_)'"
    }

    /// SQL true for a relation `c` (in namespace `n`) of a user schema that no extension owns
    /// (an extension's objects come back with `CREATE EXTENSION`).
    public static let ownRelation = contain() + """

        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        """

    /// The quoted names of the user's relations that also meet `condition`, sorted.
    public static func relationNames(_ connection: Connection, where condition: String) async throws -> [String] {
        try await connection.query("""
            SELECT format('%I.%I', n.nspname, c.relname) AS name
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE \(ownRelation) AND \(condition)
            ORDER BY 1
            """).rows.map { try $0.decode("name") }
    }

    /// Logged tables whose updates and deletes could not be found on the passive: no replica
    /// identity, or one naming a primary key or index that does not exist.
    public static func tablesLackingReplicaIdentity(_ connection: Connection) async throws -> [String] {
        try await relationNames(connection, where: """
            c.relkind = 'r' AND c.relpersistence = 'p' AND (
              c.relreplident = 'n'
              OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))
              OR (c.relreplident = 'i' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)))
            """)
    }
}
