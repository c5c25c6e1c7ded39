import PostgresClient
import PostgresTypes

/// A change that finds fewer rows on the passive than it carries means the passive has
/// diverged. That must be decided before the group's COMMIT, which is pipelined behind the
/// changes without waiting for their answers: so the passive decides it. Every INSERT, UPDATE
/// and DELETE returns its rows to `continuity.expect_rows`, which raises when the count is
/// wrong (an INSERT finds none when a trigger enabled ALWAYS on the passive drops its row);
/// the error aborts the transaction, the COMMIT behind it rolls back, and the progress row
/// never passes a change that was not applied. A re-run meets the same change and stops again.
enum RowCountGuard {
    /// SQLSTATE of the guard's error (class CN is not used by PostgreSQL).
    static let sqlState = "CN001"

    /// Created with the progress table, in the passive's `continuity` schema.
    static let function = """
        CREATE FUNCTION continuity.expect_rows(changed bigint, expected bigint, relation text) RETURNS bigint
        LANGUAGE plpgsql AS $$
        BEGIN
            IF changed IS DISTINCT FROM expected THEN
                RAISE EXCEPTION '% rows to change, % found on the passive', expected, changed
                    USING ERRCODE = '\(sqlState)', DETAIL = relation;
            END IF;
            RETURN changed;
        END $$
        """

    /// `statement` (an INSERT, UPDATE or DELETE without RETURNING) guarded to change exactly
    /// `expected` rows (an SQL expression) of `table`. `before`: CTEs it reads (data-modifying
    /// CTEs must all be at the top level).
    static func guarded(_ statement: String, expected: String, table: String, before: String? = nil) -> String {
        let prefix = before.map { "WITH \($0), " } ?? "WITH "
        return prefix + "changed AS (\(statement) RETURNING 1) SELECT continuity.expect_rows(count(*), \(expected), \(quoteLiteral(table))) FROM changed"
    }

    /// A check that `from` (a FROM list and its WHERE) finds exactly `expected` rows, for a
    /// change with nothing to write (an update of key or unchanged TOAST columns only).
    static func check(from: String, expected: String, table: String) -> String {
        "SELECT continuity.expect_rows(count(*), \(expected), \(quoteLiteral(table))) FROM \(from)"
    }

    /// The error the guard raised, as the stream reports it; nil for any other error.
    static func unappliable(_ error: ServerError) -> UnappliableChange? {
        guard error.sqlState == sqlState else { return nil }
        return UnappliableChange(table: error.detail ?? "a table", reason: "\(error.message); the passive has diverged")
    }
}
