import DatabaseCopy
import PostgresClient

/// What the preflight rules need to know about one server, read in one short session.
public struct NodeFacts: Sendable, Equatable {
    public var endpoint: String
    public var versionNumber: Int
    public var version: String
    public var user: String
    public var walLevel: String
    public var maxReplicationSlots: Int
    public var usedReplicationSlots: Int
    public var maxWalSenders: Int
    public var usedWalSenders: Int
    public var isSuperuser: Bool
    public var canReplicate: Bool
    /// May this role set session_replication_role (needed to apply a stream without firing triggers twice)?
    public var canSetReplicationRole: Bool
    public var inRecovery: Bool
    public var tablesWithoutReplicaIdentity: [String]
    public var unreadableTables: [String]
    public var unloggedTables: [String]
    public var largeObjects: Int
    /// Tables, views, sequences and other relations in user schemas.
    public var userRelations: Int
    /// The database's encoding (`server_encoding`); the server converts it to UTF-8 for continuity.
    public var databaseEncoding = "UTF8"
    /// Tables with row-level security this role does not bypass (not superuser, not BYPASSRLS,
    /// not the owner of a table without FORCE ROW LEVEL SECURITY): copying sessions run with
    /// row_security off, so reading them fails.
    public var filteredByRowSecurity: [String] = []

    public var majorVersion: Int { versionNumber / 10000 }
}

extension NodeFacts {
    /// Reads the facts; needs only an ordinary connection and read access to the catalogues.
    public static func read(from connection: Connection) async throws -> NodeFacts {
        let settings = try await connection.query("""
            SELECT current_setting('server_version_num')::int AS version_number,
                   current_setting('server_version') AS version,
                   current_user AS user_name,
                   current_setting('wal_level') AS wal_level,
                   current_setting('max_replication_slots')::int AS max_slots,
                   (SELECT count(*) FROM pg_replication_slots)::int AS used_slots,
                   current_setting('max_wal_senders')::int AS max_senders,
                   (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender')::int AS used_senders,
                   r.rolsuper AS superuser, r.rolreplication AS replication,
                   pg_is_in_recovery() AS in_recovery,
                   (SELECT count(*) FROM pg_largeobject_metadata)::int AS large_objects,
                   current_setting('server_encoding') AS encoding
            FROM pg_roles r WHERE r.rolname = current_user
            """).rows[0]
        let versionNumber: Int = try settings.decode("version_number")
        // has_parameter_privilege exists from PostgreSQL 15; before that only superusers could.
        let canSetRole = versionNumber >= 150000
            ? try await connection.query("SELECT has_parameter_privilege('session_replication_role', 'SET')").scalar(Bool.self)
            : try settings.decode("superuser", as: Bool.self)
        return NodeFacts(
            endpoint: connection.dsn.shortDescription,
            versionNumber: versionNumber,
            version: try settings.decode("version"),
            user: try settings.decode("user_name"),
            walLevel: try settings.decode("wal_level"),
            maxReplicationSlots: try settings.decode("max_slots"),
            usedReplicationSlots: try settings.decode("used_slots"),
            maxWalSenders: try settings.decode("max_senders"),
            usedWalSenders: try settings.decode("used_senders"),
            isSuperuser: try settings.decode("superuser"),
            canReplicate: try settings.decode("replication"),
            canSetReplicationRole: canSetRole,
            inRecovery: try settings.decode("in_recovery"),
            tablesWithoutReplicaIdentity: try await tablesLackingReplicaIdentity(connection),
            unreadableTables: try await names(connection, where: """
                c.relkind IN ('r', 'p', 'm') AND NOT has_table_privilege(c.oid, 'SELECT')
                """),
            unloggedTables: try await names(connection, where: "c.relkind = 'r' AND c.relpersistence = 'u'"),
            largeObjects: try settings.decode("large_objects"),
            userRelations: try await TargetContents.read(connection).userRelations,
            databaseEncoding: try settings.decode("encoding"),
            filteredByRowSecurity: try await names(connection, where: """
                c.relkind IN ('r', 'p') AND c.relrowsecurity AND NOT (pg_has_role(c.relowner, 'USAGE') AND NOT c.relforcerowsecurity)
                AND NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)
                """))
    }

    /// Logged tables whose updates and deletes could not be found on the passive (`UserSchemas`).
    public static func tablesLackingReplicaIdentity(_ connection: Connection) async throws -> [String] {
        try await UserSchemas.tablesLackingReplicaIdentity(connection)
    }

    private static func names(_ connection: Connection, where condition: String) async throws -> [String] {
        try await UserSchemas.relationNames(connection, where: condition)
    }
}
