import PostgresClient

extension Connection {
    /// Starts the read-only, repeatable-read transaction every reader of a snapshot runs in,
    /// importing `snapshot` when given (else the transaction's own snapshot is the one to export),
    /// then runs `statements` in it, all in one round trip.
    public func beginSnapshotTransaction(importing snapshot: String?, then statements: [String] = []) throws {
        let steps = ["BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                     snapshot.map { "SET TRANSACTION SNAPSHOT '\($0.replacingOccurrences(of: "'", with: "''"))'" }] + statements
        try execute(steps.compactMap { $0 }.joined(separator: "; "))
    }
}
