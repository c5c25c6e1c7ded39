import OperatorErrors
import PostgresClient

/// Copying sessions run with `row_security = off` (`SessionSettings`), so a table whose
/// policies would hide rows from the role makes its COPY fail rather than return fewer rows.
/// This turns that failure into one that names the table and the way out.
public struct RowSecurityInTheWay: OperatorError {
    public let table: String
    public let user: String
    public var status: ExitStatus { .refused }
    public var problem: String {
        "\(table) has row-level security that \(user) does not bypass: a copy would hold only the rows its policies show"
    }
    public var fix: String? {
        "run as a role with BYPASSRLS (ALTER ROLE \(user) BYPASSRLS), or as the table's owner once it has NO FORCE ROW LEVEL SECURITY"
    }

    /// Runs `body`, a copy of `table`, turning the server's row-security refusal into this error.
    public static func mapping<T>(_ table: SourceInventory.Table, on connection: Connection,
                                  _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ServerError where error.sqlState == "42501" && error.message.contains("row-level security") {
            throw RowSecurityInTheWay(table: table.displayName, user: connection.dsn["user"] ?? "this role")
        }
    }
}
