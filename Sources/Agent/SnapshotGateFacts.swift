import ContinuityConfig
import DatabaseCopy
import OperatorErrors
import PostgresClient

/// The source's side of `SnapshotGate`, read in one query on a connection of its own.
enum SnapshotGateFacts {
    /// Read in pg_locks, not tried with pg_try_advisory_lock: taking the lock even for an
    /// instant could make a restore starting then find it held.
    static let query = """
        SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p') AND \(UserSchemas.ownRelation)) AS tables,
               EXISTS (SELECT 1 FROM pg_locks l
                       WHERE l.locktype = 'advisory' AND l.objsubid = 2
                         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                         AND l.classid = \(RestoreRecord.inProgressLock)::int4::oid AND l.objid = hashtext(current_database())::oid) AS restoring
        """

    static func read(_ node: StackConfig.NodeConfig?) async -> Result<SnapshotGate.SourceFacts, SourceUnreadable> {
        guard let node else { return .failure(SourceUnreadable("the stack has no source")) }
        do {
            var dsn = try ConnectionString(node.dsn)
            if let password = node.password { dsn = dsn.setting("password", to: password) }
            let row = try await Connection.with(dsn) { try await $0.query(query).rows.first }
            guard let row else { return .failure(SourceUnreadable("the facts query returned no row")) }
            return .success(.init(userTables: try row.decode("tables"), restoreInProgress: try row.decode("restoring")))
        } catch let error as any OperatorError {
            return .failure(SourceUnreadable(error.problem))
        } catch {
            return .failure(SourceUnreadable("\(error)"))
        }
    }
}
