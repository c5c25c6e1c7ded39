import PostgresClient

/// Runs pg_dump's post-data section faster than one session can, as `pg_restore -j` does:
/// indexes and primary-key/unique constraints are independent of one another and are built in
/// parallel, together with `alongside` (the ANALYZEs: their lock does not conflict with
/// CREATE INDEX's); everything else (partition index attachments, comments, triggers, foreign
/// keys, which depend on those) then runs in the dump's order on one session.
public enum PostDataBuilder {
    static let parallelTypes: Set<String> = ["INDEX", "CONSTRAINT"]

    public static func run(_ script: SchemaScript, alongside: [String], target: ConnectionString, jobs: Int) async throws {
        let (preamble, entries) = script.entries
        let parallel = entries.filter { parallelTypes.contains($0.type) }.map(\.sql) + alongside
        let rest = entries.filter { !parallelTypes.contains($0.type) }
        // Sorts for index builds fit in memory more often; only ever raised, never lowered.
        let session = preamble + "\n" + """
            SELECT set_config('maintenance_work_mem', '256MB', false) FROM pg_settings
            WHERE name = 'maintenance_work_mem' AND setting::bigint < 262144;
            """
        try await forEachInParallel(parallel, target: target, jobs: jobs, prepare: session) { sql, connection in
            try await connection.execute(sql)
        }
        guard !rest.isEmpty else { return }
        try await Connection.with(target) { connection in
            try await connection.execute(session)
            try await connection.execute(rest.map(\.sql).joined(separator: "\n"))
        }
    }
}
