import DatabaseCopy
import PostgresClient

/// What the cutover's role may do on a node, read with the other facts: a cutover that finds
/// out mid-pause that it may not fence the active or set a sequence can only roll back.
struct CutoverRights: Equatable, Sendable {
    var superuser = true
    /// Owns the database, or is a member of its owner: ALTER DATABASE, for the fence.
    var ownsDatabase = true
    /// Member of pg_signal_backend: ends other roles' sessions, for the fence.
    var signalsBackends = true
    /// The REPLICATION attribute: drops the forward slot afterwards.
    var replication = true
    var emitsMessages = true
    /// Sequences it may not setval (no UPDATE).
    var sequencesNotUpdatable: [String] = []

    static func read(_ node: Connection) async throws -> CutoverRights {
        let row = try await node.query("""
            SELECT r.rolsuper, r.rolreplication, pg_has_role(current_user, d.datdba, 'MEMBER') AS owns,
                   pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS signals,
                   has_function_privilege('pg_catalog.pg_logical_emit_message(boolean, text, text)', 'EXECUTE') AS emits,
                   coalesce((SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY 1)
                             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE c.relkind = 'S' AND \(UserSchemas.contain()) AND NOT has_table_privilege(c.oid, 'UPDATE')), '') AS sequences
            FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()
            """).rows.first
        let sequences = row?["sequences"] ?? ""
        return CutoverRights(superuser: row?["rolsuper"] == "t", ownsDatabase: row?["owns"] == "t", signalsBackends: row?["signals"] == "t",
                             replication: row?["rolreplication"] == "t", emitsMessages: row?["emits"] == "t",
                             sequencesNotUpdatable: sequences.isEmpty ? [] : sequences.components(separatedBy: ", "))
    }

    /// What the role lacks for the old active's part: the fence, the marker, the slot.
    var activeFindings: [String] {
        guard !superuser else { return [] }
        var found: [String] = []
        if !ownsDatabase { found.append("the role does not own the active's database, so it cannot fence it (ALTER DATABASE)") }
        if !signalsBackends { found.append("the role is not a member of pg_signal_backend, so it cannot end the active's other sessions") }
        if !emitsMessages { found.append("the role may not execute pg_logical_emit_message on the active, which marks the cutover's LSN") }
        if !replication { found.append("the role lacks the REPLICATION attribute on the active, so it cannot drop the slot afterwards") }
        return found
    }

    /// What the role lacks for the passive's part: setting its sequences.
    var passiveFindings: [String] {
        guard !superuser, !sequencesNotUpdatable.isEmpty else { return [] }
        return ["the role may not set these sequences on the passive (UPDATE): \(sequencesNotUpdatable.joined(separator: ", "))"]
    }
}
