import PostgresClient
import PostgresTypes
import SnapshotFormat

/// The last steps after the rows are in: sequence values and materialized views.
public enum DataFinishing {
    public static func setSequences(_ sequences: [Manifest.Sequence], on target: Connection) async throws {
        for sequence in sequences {
            try await target.execute("SELECT pg_catalog.setval($1, $2, $3)",
                                     [qualifiedName(sequence.schema, sequence.name), String(sequence.lastValue), sequence.isCalled ? "t" : "f"])
        }
    }

    /// Refreshes the views that held data on the source. One may read another, so a view that
    /// fails because another is still empty is retried after the others; a pass that refreshes
    /// nothing means a real error, which is then thrown.
    public static func refresh(_ views: [Manifest.Relation], on target: Connection) async throws {
        var pending = views
        while !pending.isEmpty {
            var failures: [(Manifest.Relation, any Error)] = []
            for view in pending {
                do {
                    try await target.execute("REFRESH MATERIALIZED VIEW \(qualifiedName(view.schema, view.name))")
                } catch {
                    failures.append((view, error))
                }
            }
            if failures.count == pending.count, let (_, error) = failures.first { throw error }
            pending = failures.map(\.0)
        }
    }
}
