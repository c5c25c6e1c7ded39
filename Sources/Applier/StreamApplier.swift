import PgOutput
import PostgresClient

/// Applies decoded pgoutput messages to the passive, exactly once across crashes.
///
/// Each source transaction becomes one passive transaction that also writes the slot's
/// progress (`continuity.stream_progress`, the commit's end LSN). Either both commit or
/// neither does, so after a crash the progress row says exactly what is in; transactions the
/// stream sends again that end at or before it are skipped. The session runs with
/// `session_replication_role = replica`, so the passive's triggers and foreign keys do not
/// fire a second time for changes the active already checked.
public final class StreamApplier {
    private let connection: Connection
    private let slot: String
    /// Everything up to here is committed on the passive.
    public private(set) var appliedLSN: LSN
    private var relations: [UInt32: Relation] = [:]
    private var state = State.idle

    private enum State { case idle, applying, skipping }

    private init(connection: Connection, slot: String, appliedLSN: LSN) {
        self.connection = connection
        self.slot = slot
        self.appliedLSN = appliedLSN
    }

    /// Prepares the passive session and reads where the slot's progress stands.
    public static func open(on connection: Connection, slot: String) async throws -> StreamApplier {
        try await connection.execute("""
            SET session_replication_role = replica;
            CREATE SCHEMA IF NOT EXISTS continuity;
            CREATE TABLE IF NOT EXISTS continuity.stream_progress (
                slot text PRIMARY KEY, lsn pg_lsn NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """)
        let row = try await connection.query("SELECT lsn FROM continuity.stream_progress WHERE slot = $1", [slot]).rows.first
        return StreamApplier(connection: connection, slot: slot, appliedLSN: try row?.decode("lsn") ?? .zero)
    }

    public func apply(_ message: PgOutputMessage) async throws {
        switch message {
        case .begin(let begin):
            // The commit LSN of a transaction already in lies before the recorded end LSN.
            if begin.finalLSN < appliedLSN {
                state = .skipping
            } else {
                try await connection.execute("BEGIN")
                state = .applying
            }
        case .commit(let commit):
            if state == .applying {
                try await connection.execute("""
                    INSERT INTO continuity.stream_progress (slot, lsn) VALUES ($1, $2)
                    ON CONFLICT (slot) DO UPDATE SET lsn = excluded.lsn, applied_at = now()
                    """, [slot, commit.endLSN.description])
                try await connection.execute("COMMIT")
                appliedLSN = commit.endLSN
            }
            state = .idle
        case .relation(let relation):
            try await checkShape(relation)
            relations[relation.oid] = relation
        case .type, .origin:
            break
        case .insert(let insert):
            guard state == .applying else { return }
            try await run(try ChangeSQL.insert(insert, into: try relation(insert.relation)))
        case .update(let update):
            guard state == .applying else { return }
            let table = try relation(update.relation)
            if let statement = try ChangeSQL.update(update, of: table) { try await run(statement, findsOneRowOf: table) }
        case .delete(let delete):
            guard state == .applying else { return }
            let table = try relation(delete.relation)
            try await run(try ChangeSQL.delete(delete, from: table), findsOneRowOf: table)
        case .truncate(let truncate):
            guard state == .applying else { return }
            try await run(ChangeSQL.truncate(truncate, relations: try truncate.relations.map(relation)))
        }
    }

    /// Abandons the source transaction in flight (a stop mid-transaction): nothing of it stays,
    /// and the next run receives it again from the recorded position.
    public func rollBackInFlight() async throws {
        if state == .applying { try await connection.execute("ROLLBACK") }
        state = .idle
    }

    private func relation(_ oid: UInt32) throws -> Relation {
        guard let relation = relations[oid] else {
            throw UnappliableChange(table: "relation \(oid)", reason: "a change arrived before its Relation message")
        }
        return relation
    }

    /// An update or delete that finds no row means the passive has diverged: stop, loudly.
    private func run(_ statement: ChangeStatement, findsOneRowOf table: Relation? = nil) async throws {
        let affected = try await connection.execute(statement.sql, statement.parameters)
        if let table, affected != 1 {
            throw UnappliableChange(table: "\(table.namespace).\(table.name)",
                                    reason: "the row to change is not on the passive (\(affected ?? 0) rows matched); the passive has diverged and must be re-initialised")
        }
    }

    /// DDL is not streamed: a table whose columns differ from what the active describes stops
    /// the stream with the difference spelled out.
    private func checkShape(_ relation: Relation) async throws {
        let passive = try await connection.query("""
            SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attnum
            """, [qualifiedName(relation.namespace, relation.name)]).rows.compactMap { $0["attname"] }
        let active = relation.columns.map(\.name)
        guard passive != active else { return }
        let table = "\(relation.namespace).\(relation.name)"
        let reason: String
        if passive.isEmpty {
            reason = "it does not exist on the passive"
        } else {
            let missing = active.filter { !passive.contains($0) }, extra = passive.filter { !active.contains($0) }
            reason = "its columns differ: active (\(active.joined(separator: ", "))), passive (\(passive.joined(separator: ", ")))"
                + (missing.isEmpty ? "" : "; missing on the passive: \(missing.joined(separator: ", "))")
                + (extra.isEmpty ? "" : "; only on the passive: \(extra.joined(separator: ", "))")
        }
        throw UnappliableChange(table: table, reason: reason + ". DDL is not streamed: apply it to the passive first")
    }
}
