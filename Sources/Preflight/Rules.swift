/// The preflight's judgement: pure functions from facts to findings, so every rule can be
/// tested without a server.
public enum Rules {
    public static func source(_ facts: NodeFacts) -> [Finding] {
        let node = "source"
        var findings = common(facts, node: node)
        findings.append(facts.walLevel == "logical"
            ? Finding(node: node, check: "wal_level", severity: .ok, message: "wal_level is logical")
            : Finding(node: node, check: "wal_level", severity: .blocking,
                      message: "wal_level is \(facts.walLevel); streaming needs logical",
                      fix: "run ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL"))
        findings.append(capacity("replication_slots", used: facts.usedReplicationSlots, of: facts.maxReplicationSlots,
                                 what: "replication slots", setting: "max_replication_slots", node: node,
                                 extraFix: " or drop a slot nobody uses"))
        findings.append(capacity("wal_senders", used: facts.usedWalSenders, of: facts.maxWalSenders,
                                 what: "WAL senders", setting: "max_wal_senders", node: node, extraFix: ""))
        if facts.inRecovery {
            findings.append(Finding(node: node, check: "role_in_cluster", severity: .blocking,
                                    message: "the source is a standby (in recovery); PostgreSQL \(facts.majorVersion) cannot host a logical slot there",
                                    fix: "point --source at the primary"))
        }
        findings.append(facts.databaseEncoding == "SQL_ASCII"
            ? Finding(node: node, check: "encoding", severity: .blocking,
                      message: "the database is SQL_ASCII: its text is bytes in no known encoding, which snapshots and streams cannot carry faithfully, so they refuse it",
                      fix: "move the data into a UTF8 database (pg_dump --encoding=<the encoding the data is in>, restore) and use that one")
            : Finding(node: node, check: "encoding", severity: .ok,
                      message: "the database is \(facts.databaseEncoding)" + (facts.databaseEncoding == "UTF8" ? "" : "; the server converts its text to UTF-8")))
        findings.append(sourcePrivileges(facts))
        if !facts.unreadableTables.isEmpty {
            findings.append(Finding(node: node, check: "table_privileges", severity: .blocking,
                                    message: "\(facts.user) cannot read \(list(facts.unreadableTables))",
                                    fix: "GRANT SELECT on them (or ON ALL TABLES IN SCHEMA …) TO \(facts.user)"))
        }
        findings.append(facts.tablesWithoutReplicaIdentity.isEmpty
            ? Finding(node: node, check: "replica_identity", severity: .ok,
                      message: "every table has a usable replica identity")
            : Finding(node: node, check: "replica_identity", severity: .blocking,
                      message: "no usable replica identity on \(list(facts.tablesWithoutReplicaIdentity)); updates and deletes there cannot be streamed",
                      fix: "add a primary key, or ALTER TABLE … REPLICA IDENTITY USING INDEX <unique index> (or FULL)"))
        if !facts.unloggedTables.isEmpty {
            findings.append(Finding(node: node, check: "unlogged_tables", severity: .warning,
                                    message: "logical replication does not carry unlogged tables: \(list(facts.unloggedTables))",
                                    fix: "make them logged (ALTER TABLE … SET LOGGED) if the passive needs their rows"))
        }
        if facts.largeObjects > 0 {
            findings.append(Finding(node: node, check: "large_objects", severity: .warning,
                                    message: "\(facts.largeObjects) large objects: logical replication does not carry them",
                                    fix: "store them in bytea columns, or move them separately before a cutover"))
        }
        return findings
    }

    public static func target(_ facts: NodeFacts, source: NodeFacts?) -> [Finding] {
        let node = "target"
        var findings = common(facts, node: node)
        if let source {
            findings.append(facts.majorVersion >= source.majorVersion
                ? Finding(node: node, check: "version_compatibility", severity: .ok,
                          message: "PostgreSQL \(source.majorVersion) → \(facts.majorVersion) is supported")
                : Finding(node: node, check: "version_compatibility", severity: .blocking,
                          message: "the target runs PostgreSQL \(facts.majorVersion), older than the source's \(source.majorVersion); a schema from \(source.majorVersion) may not load",
                          fix: "use a target of major version \(source.majorVersion) or newer"))
        }
        if facts.inRecovery {
            findings.append(Finding(node: node, check: "role_in_cluster", severity: .blocking,
                                    message: "the target is a read-only standby (in recovery)",
                                    fix: "point --target at a writable server"))
        }
        findings.append(facts.userRelations == 0
            ? Finding(node: node, check: "target_empty", severity: .ok, message: "the target database is empty")
            : Finding(node: node, check: "target_empty", severity: .warning,
                      message: "the target database is not empty (\(facts.userRelations) tables, views or sequences); restore and --init copy refuse it",
                      fix: "use an empty database, or pass --clean to restore to replace what is there"))
        findings.append(facts.canSetReplicationRole
            ? Finding(node: node, check: "apply_privileges", severity: .ok,
                      message: "\(facts.user) may set session_replication_role (triggers will not fire twice)")
            : Finding(node: node, check: "apply_privileges", severity: .blocking,
                      message: "\(facts.user) may not set session_replication_role, which applying a stream needs",
                      fix: "GRANT SET ON PARAMETER session_replication_role TO \(facts.user); or connect as a superuser"))
        return findings
    }

    /// pg_dump must be at least as new as the server it dumps.
    public static func pgDump(majorVersion: Int?, source: NodeFacts) -> Finding {
        guard let majorVersion else {
            return Finding(node: "local", check: "pg_dump", severity: .blocking,
                           message: "pg_dump is not on PATH; snapshots need it for the schema",
                           fix: "install the PostgreSQL \(source.majorVersion) client tools (postgresql-client-\(source.majorVersion))")
        }
        return majorVersion >= source.majorVersion
            ? Finding(node: "local", check: "pg_dump", severity: .ok,
                      message: "pg_dump \(majorVersion) can dump PostgreSQL \(source.majorVersion)")
            : Finding(node: "local", check: "pg_dump", severity: .blocking,
                      message: "pg_dump \(majorVersion) is older than the source's PostgreSQL \(source.majorVersion) and will refuse to dump it",
                      fix: "install postgresql-client-\(source.majorVersion) and put its pg_dump first on PATH")
    }

    /// Blocking, not a warning: copying sessions run with row_security off, so a snapshot or
    /// `--init copy` of such a table fails (on the target, applying into it does), every time.
    private static func rowSecurity(_ facts: NodeFacts, node: String) -> Finding {
        guard !facts.filteredByRowSecurity.isEmpty else {
            return Finding(node: node, check: "row_security", severity: .ok,
                           message: "no table has row-level security that \(facts.user) does not bypass")
        }
        let what = node == "source" ? "snapshots and --init copy read" : "the stream writes"
        return Finding(node: node, check: "row_security", severity: .blocking,
                       message: "\(facts.user) does not bypass the row-level security of \(list(facts.filteredByRowSecurity)); \(what) every row or fail",
                       fix: "use a role with BYPASSRLS (ALTER ROLE \(facts.user) BYPASSRLS) or the tables' owner (with FORCE ROW LEVEL SECURITY off)")
    }

    private static func common(_ facts: NodeFacts, node: String) -> [Finding] {
        [
            Finding(node: node, check: "reachable", severity: .ok,
                    message: "connected to \(facts.endpoint) as \(facts.user)"),
            facts.majorVersion >= 10
                ? Finding(node: node, check: "server_version", severity: .ok, message: "PostgreSQL \(facts.version)")
                : Finding(node: node, check: "server_version", severity: .blocking,
                          message: "PostgreSQL \(facts.version) has no pgoutput logical decoding",
                          fix: "upgrade to PostgreSQL 10 or newer (15 is what continuity is tested on)"),
            rowSecurity(facts, node: node),
        ]
    }

    private static func sourcePrivileges(_ facts: NodeFacts) -> Finding {
        let node = "source"
        if facts.isSuperuser {
            return Finding(node: node, check: "privileges", severity: .ok, message: "\(facts.user) is a superuser")
        }
        guard facts.canReplicate else {
            return Finding(node: node, check: "privileges", severity: .blocking,
                           message: "\(facts.user) has neither REPLICATION nor superuser; it cannot create a slot",
                           fix: "ALTER ROLE \(facts.user) REPLICATION; (and GRANT SELECT on the tables)")
        }
        return Finding(node: node, check: "privileges", severity: .warning,
                       message: "\(facts.user) has REPLICATION but is not a superuser; a FOR ALL TABLES publication needs one",
                       fix: "create the publication once as a superuser (CREATE PUBLICATION continuity FOR ALL TABLES) and pass --publication")
    }

    private static func capacity(_ check: String, used: Int, of maximum: Int, what: String, setting: String,
                                 node: String, extraFix: String) -> Finding {
        let free = maximum - used
        let message = "\(used) of \(maximum) \(what) in use, \(max(free, 0)) free"
        return free >= 1
            ? Finding(node: node, check: check, severity: .ok, message: message)
            : Finding(node: node, check: check, severity: .blocking, message: message + "; a stream needs one",
                      fix: "raise \(setting) (needs a restart)\(extraFix)")
    }

    /// At most ten names, then how many more.
    static func list(_ names: [String]) -> String {
        let shown = names.prefix(10).joined(separator: ", ")
        let noun = names.count == 1 ? "table" : "tables"
        return names.count > 10 ? "\(names.count) \(noun): \(shown) and \(names.count - 10) more" : "\(names.count) \(noun): \(shown)"
    }
}
