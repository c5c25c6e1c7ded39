/// One statement that applies changes from the stream to the passive: text and text
/// parameters (nil = NULL), and how many rows it must change.
///
/// The one statement type of the SQL builders: `ChangeSQL` (one change, one row) and
/// `NetChanges` (a table's folded changes, one row per array element) used to have a type
/// each, the same but for the count. The client's `PipelinedStatement` stays apart: it is how
/// any statement goes over the wire (and whether it is prepared), knows nothing of rows, and
/// lives in the client layer, which the SQL builders need not import to say what a change is.
public struct ChangeStatement: Equatable, Sendable {
    public let sql: String
    public let parameters: [String?]
    /// The rows it must change, which `RowCountGuard` (in the SQL) checks on the passive
    /// before the group's COMMIT; nil for a TRUNCATE, which is not counted.
    public let rows: Int?

    public init(sql: String, parameters: [String?], rows: Int?) {
        self.sql = sql
        self.parameters = parameters
        self.rows = rows
    }
}
