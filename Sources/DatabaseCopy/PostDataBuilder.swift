import PostgresClient

/// Runs pg_dump's post-data section faster than one session can, as `pg_restore -j` does:
/// index and primary-key/unique constraint entries, and the ANALYZE of every loaded table,
/// run on `jobs` sessions, never two whose locks on one table conflict (`PostDataStep`);
/// everything else (partition index attachments, comments, triggers, foreign keys, which
/// depend on those) then runs in the dump's order on one session.
public enum PostDataBuilder {
    static let parallelTypes: Set<String> = ["INDEX", "CONSTRAINT"]

    /// A loaded table to ANALYZE; `size` (rows or blocks) orders the work, biggest first.
    public struct LoadedTable: Sendable {
        public let schema: String
        public let name: String
        public let size: Int64

        public init(schema: String, name: String, size: Int64) {
            self.schema = schema
            self.name = name
            self.size = size
        }
    }

    public static func run(_ script: SchemaScript, analyzing tables: [LoadedTable], target: ConnectionString, jobs: Int) async throws {
        let (preamble, entries) = script.entries
        let sizes = Dictionary(tables.map { (RelationKey(schema: $0.schema, name: $0.name), $0.size) }, uniquingKeysWith: max)
        let steps = entries.filter { parallelTypes.contains($0.type) }.map { PostDataStep.entry($0.sql, weights: sizes) }
            + tables.map { PostDataStep.analyze(schema: $0.schema, name: $0.name, weight: $0.size) }
        let rest = entries.filter { !parallelTypes.contains($0.type) }
        // maintenance_work_mem stays the server's: raising it to 256MB so index sorts stay in
        // memory made the benchmark's text index 8% slower (0.92-1.06 s against 0.89-0.96 s)
        // and the pgbench primary key no faster (PostgreSQL 15's external sort is good).
        let queue = PostDataQueue(steps)
        try await FanOut.targetSessions(target, count: min(jobs, steps.count), prepare: preamble.isEmpty ? nil : preamble) { connection in
            do {
                while let (ticket, step) = await queue.next() {
                    try Task.checkCancellation()  // a stop signal ends the run after the steps already running
                    try await connection.execute(step.sql)
                    await queue.finished(ticket)
                }
            } catch {
                await queue.abandon()
                throw error
            }
        }
        guard !rest.isEmpty else { return }
        try await Connection.with(target) { connection in
            if !preamble.isEmpty { try await connection.execute(preamble) }
            try await connection.execute(rest.map(\.sql).joined(separator: "\n"))
        }
    }
}
