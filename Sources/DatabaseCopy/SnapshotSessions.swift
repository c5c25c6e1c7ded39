import PostgresClient

/// Parts read out of the source under one exported snapshot, as snapshot and the initial copy
/// both do: up to `jobs` sessions (`FanOut`), each in a transaction on the snapshot with every
/// table locked (`SnapshotTableLocks`), take parts largest first. Before each part a session
/// checks that its table still has the file the snapshot saw; a table whose row security
/// hides rows from the role is named (`RowSecurityInTheWay`).
public enum SnapshotSessions {
    /// `within` wraps each session's loop (the initial copy opens its passive session there and
    /// hands it on as the context); `copy` reads one part. Returns every part's output.
    public static func copy<Context: Sendable, Output: Sendable>(
        _ parts: [TablePart], of tables: [SourceInventory.Table], from source: ConnectionString, snapshot: String, jobs: Int,
        within: @escaping @Sendable (_ loop: @escaping @Sendable (Context) async throws -> [Output]) async throws -> [Output],
        _ copy: @escaping @Sendable (TablePart, Connection, Context) async throws -> Output
    ) async throws -> [Output] {
        let locks = SnapshotTableLocks.statement(for: tables)
        return try await FanOut.run(parts, workers: jobs) { next in
            try await Connection.with(source) { connection in
                try await SnapshotTableLocks.begin(on: connection, importing: snapshot, locking: locks)
                let outputs = try await within { context in
                    var done: [Output] = []
                    while let part = await next() {
                        try await SnapshotTableLocks.verify(part.table, on: connection)
                        done.append(try await RowSecurityInTheWay.mapping(part.table, on: connection) {
                            try await copy(part, connection, context)
                        })
                    }
                    return done
                }
                try await connection.execute("COMMIT")
                return outputs
            }
        }.flatMap { $0 }
    }
}
