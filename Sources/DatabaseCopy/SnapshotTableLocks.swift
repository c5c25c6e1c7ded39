import OperatorErrors
import PostgresClient

/// TRUNCATE, and the commands that rewrite a table (VACUUM FULL, CLUSTER, ALTER TABLE … SET
/// DATA TYPE), are not MVCC-safe: once one commits, a transaction on an older snapshot reads
/// the table as empty. A copy under an exported snapshot would then silently lose the table's
/// rows; the SIGKILL stream test caught it, its workload truncating a table every few dozen
/// transactions.
///
/// So every session that copies under the snapshot locks every table in ACCESS SHARE mode in
/// the same round trip as it imports the snapshot: inserts, updates and deletes go on, a
/// TRUNCATE waits until the copy is done. Before it copies a part, the session checks that the
/// table still has the file the snapshot saw, which catches a TRUNCATE that committed in the
/// moment before the lock; the caller then takes a new snapshot. No session holds a lock that
/// another one of ours will ask for later: a TRUNCATE queued between the two would leave both
/// waiting for good (a first version locked in a coordinator, and pg_dump queued behind it).
public enum SnapshotTableLocks {
    /// How long to wait for a lock another session holds (an ALTER TABLE, a VACUUM FULL).
    public static let wait = "30s"
    /// Snapshots taken before giving up on a table that keeps being truncated.
    public static let attempts = 3

    /// Runs `attempt` (numbered from 1) until it does not meet a table rewritten under its
    /// snapshot, at most `attempts` times: snapshot and the initial copy take a new snapshot
    /// then. `rewritten` runs after each such failure, told whether it was the last; it
    /// cleans up (the initial copy drops its slot) and says what happens, and after the last
    /// it throws (or the error is rethrown). A stop is never retried.
    public static func retrying<T>(_ attempt: (_ number: Int) async throws -> T,
                                   rewritten: (_ error: TableRewrittenUnderSnapshot, _ last: Bool) async throws -> Void) async throws -> T {
        var number = 1
        while true {
            do {
                return try await attempt(number)
            } catch let error as TableRewrittenUnderSnapshot where !Task.isCancelled {
                try await rewritten(error, number >= attempts)
                if number >= attempts { throw error }
                number += 1
            }
        }
    }

    /// The LOCK statement for `tables`; nil when there are none.
    public static func statement(for tables: [SourceInventory.Table]) -> String? {
        tables.isEmpty ? nil : "LOCK TABLE \(tables.map { "ONLY \($0.qualifiedName)" }.joined(separator: ", ")) IN ACCESS SHARE MODE"
    }

    /// Begins the read-only snapshot transaction, importing `snapshot`, and takes the locks,
    /// in one round trip.
    public static func begin(on connection: Connection, importing snapshot: String, locking statement: String?) async throws {
        do {
            try await connection.beginSnapshotTransaction(importing: snapshot, then: ["SET LOCAL lock_timeout = '\(wait)'"] + [statement].compactMap { $0 })
        } catch let error as ServerError where error.sqlState == "55P03" {
            throw Failure("a table to copy stayed locked by another session for \(wait) (an ALTER TABLE, VACUUM FULL or CLUSTER?)",
                          fix: "let it finish (see pg_locks on the source), then run again")
        } catch let error as ServerError where error.sqlState == "42P01" {
            throw TableRewrittenUnderSnapshot(table: error.message)  // dropped since the snapshot
        }
    }

    /// Throws when `table` no longer has the file the snapshot saw.
    public static func verify(_ table: SourceInventory.Table, on connection: Connection) async throws {
        let same = try await connection.query(
            "SELECT relfilenode IS NOT DISTINCT FROM pg_relation_filenode(oid) AS same FROM pg_class WHERE oid = $1", [String(table.oid)])
        guard same.rows.first?["same"] == "t" else { throw TableRewrittenUnderSnapshot(table: table.displayName) }
    }
}

/// A table changed file (TRUNCATE, a rewrite) or went away after the snapshot was taken and
/// before it was locked: this snapshot cannot be used; a new one can.
public struct TableRewrittenUnderSnapshot: OperatorError {
    public let table: String
    public var status: ExitStatus { .failed }
    public var problem: String {
        "\(table) was truncated, rewritten or dropped as each of \(SnapshotTableLocks.attempts) snapshots was taken"
    }
    public var fix: String? { "pause what truncates it for a moment, then run again" }
}
