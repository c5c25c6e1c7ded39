import OperatorErrors
import PgOutput
import PostgresClient
import PostgresTypes

/// A change the passive cannot apply as sent. The stream stops before anything after it
/// commits, and stops there again on every re-run, until the passive is re-initialised.
public struct UnappliableChange: OperatorError, Equatable {
    public let table: String
    public let reason: String
    public var status: ExitStatus { .failed }
    public var problem: String { "cannot apply a change to \(table): \(reason)" }
    public var fix: String? {
        "nothing after it was applied; re-initialise the passive with `continuity stream --init copy --clean …` (or fix the passive's table and re-run)"
    }
}

/// What the applier knows of a passive table besides its columns' names (`ShapeCheck`).
public struct TableShape: Sendable, Equatable {
    /// Each column's type without its modifier, for casts from text: an explicit cast to
    /// varchar(10) or bit(3) would truncate silently, an assignment to the column errors.
    public let castTypes: [String]
    /// Each column type's default btree equality, schema-qualified (`OPERATOR(pg_catalog.=)`):
    /// the session's search_path is empty, so an extension's `=` (hstore, citext) is found only
    /// so. nil where the type has none (json, point): such a column is matched by text alone.
    public let equality: [String?]
    /// GENERATED ALWAYS identity columns, which an UPDATE may not set.
    public let alwaysIdentity: Set<String>

    public init(castTypes: [String], equality: [String?], alwaysIdentity: Set<String> = []) {
        self.castTypes = castTypes
        self.equality = equality
        self.alwaysIdentity = alwaysIdentity
    }

    /// `::type` for a value of column `index` (nothing if the passive's table has no such column).
    func cast(_ index: Int) -> String {
        castTypes.indices.contains(index) ? "::\(castTypes[index])" : ""
    }

    /// The equality to compare column `index` by: its type's, else the one `=` resolves to.
    func equals(_ index: Int) -> String {
        (equality.indices.contains(index) ? equality[index] : nil) ?? "="
    }
}

/// Builds the statements that apply pgoutput changes, from the Relation that describes the
/// table. Pure: no connection, so every rule is unit-tested.
///
/// Rows are found by the replica identity: the old key ('K') when the key changed, the whole
/// old row ('O', REPLICA IDENTITY FULL), else the key columns of the new row. Every UPDATE and
/// DELETE is guarded (`RowCountGuard`): it must change exactly one row, or the passive raises.
///
/// With FULL, a column matches when its output text is the one the active sent (the passive
/// and the walsender run with the same fixed settings, so one value has one text) and, where
/// the type has equality, by value as well (it lets an index help). Text alone decides: equal
/// values can differ (numeric 1.0 and 1.00, citext case, float -0 and 0), and some types
/// (json, point, xml) have no equality at all. `format('%s', v)` is the type's output
/// function; `v::text` is not (boolean gives 'true', inet adds '/32', char(n) drops blanks).
/// Every statement names its table with ONLY: an inheritance child's rows arrive as changes
/// of the child, so `UPDATE parent` or `TRUNCATE parent` must not reach them too.
///
/// Rows may be duplicates, so exactly one is touched, found by `(tableoid, ctid)`: a ctid
/// alone can match a row in each partition of a partitioned table. Unchanged TOAST columns
/// are left as they are.
public enum ChangeSQL {
    /// OVERRIDING SYSTEM VALUE: the active's values go in as they are, identity columns
    /// declared GENERATED ALWAYS included (the clause is harmless on tables without one).
    public static func insert(_ insert: Insert, into relation: Relation) throws(UnappliableChange) -> ChangeStatement {
        let values = try columnValues(insert.new, of: relation)
        if let unchanged = values.first(where: { $0.unchangedToast }) {
            throw UnappliableChange(table: display(relation), reason: "an insert with an unchanged TOAST value in \(unchanged.name)")
        }
        let columns = values.map { quoteIdentifier($0.name) }.joined(separator: ", ")
        let placeholders = values.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
        let statement = values.isEmpty ? "INSERT INTO \(name(relation)) DEFAULT VALUES"
            : "INSERT INTO \(name(relation)) (\(columns)) OVERRIDING SYSTEM VALUE VALUES (\(placeholders))"
        return ChangeStatement(sql: RowCountGuard.guarded(statement, expected: "1", table: display(relation)), parameters: values.map(\.value), rows: 1)
    }

    /// The passive's GENERATED ALWAYS identity columns (`shape.alwaysIdentity`) cannot be SET:
    /// where one may change (the old key or old row says it does, or it is outside the replica
    /// identity, so its old value is unknown), the row is deleted and inserted again in one
    /// statement, with OVERRIDING SYSTEM VALUE. An update with nothing to assign (only key or
    /// unchanged TOAST columns) still checks that its row is there.
    public static func update(_ update: Update, of relation: Relation, shape: TableShape) throws(UnappliableChange) -> ChangeStatement {
        let alwaysIdentity = shape.alwaysIdentity
        let new = try columnValues(update.new, of: relation)
        let known = try knownOldValues(update, of: relation)
        let identityMayChange = new.contains { column in
            guard alwaysIdentity.contains(column.name), !column.unchangedToast else { return false }
            if let old = known[column.name] { return !sameBytes(old, column.value) }
            return !(column.isKey && update.oldKey == nil)  // a key without an old key did not change
        }
        if identityMayChange { return try reinsert(update, new: new, of: relation, shape: shape) }
        let assigned = new.filter { !$0.unchangedToast && !alwaysIdentity.contains($0.name) }
        var parameters = assigned.map(\.value)
        let assignments = assigned.enumerated().map { "\(quoteIdentifier($1.name)) = $\($0 + 1)" }.joined(separator: ", ")
        let condition = try rowCondition(relation, shape: shape, key: update.oldKey, old: update.old, new: new, parameters: &parameters)
        let sql = assigned.isEmpty
            ? RowCountGuard.check(from: "ONLY \(name(relation)) WHERE \(condition)", expected: "1", table: display(relation))
            : RowCountGuard.guarded("UPDATE ONLY \(name(relation)) SET \(assignments) WHERE \(condition)", expected: "1", table: display(relation))
        return ChangeStatement(sql: sql, parameters: parameters, rows: 1)
    }

    /// The old values the stream told: every column of a FULL old row but unchanged TOAST, or
    /// the key columns of an old key.
    static func knownOldValues(_ update: Update, of relation: Relation) throws(UnappliableChange) -> [String: String?] {
        if let old = update.old {
            return Dictionary(try columnValues(old, of: relation).filter { !$0.unchangedToast }.map { ($0.name, $0.value) },
                              uniquingKeysWith: { first, _ in first })
        }
        guard let key = update.oldKey else { return [:] }
        return Dictionary(try columnValues(key, of: relation).filter(\.isKey).map { ($0.name, $0.value) },
                          uniquingKeysWith: { first, _ in first })
    }

    /// An update that moves a GENERATED ALWAYS identity value: delete the row and insert the
    /// new one, unchanged TOAST columns taken from the deleted row.
    static func reinsert(_ update: Update, new: [ColumnValue], of relation: Relation, shape: TableShape) throws(UnappliableChange) -> ChangeStatement {
        var parameters: [String?] = []
        let values = new.map { column -> String in
            guard !column.unchangedToast else { return "old.\(quoteIdentifier(column.name))" }
            parameters.append(column.value)
            return "$\(parameters.count)"
        }
        let condition = try rowCondition(relation, shape: shape, key: update.oldKey, old: update.old, new: new, parameters: &parameters)
        let columns = new.map { quoteIdentifier($0.name) }.joined(separator: ", ")
        return ChangeStatement(sql: RowCountGuard.guarded(
            "INSERT INTO \(name(relation)) (\(columns)) OVERRIDING SYSTEM VALUE SELECT \(values.joined(separator: ", ")) FROM old",
            expected: "1", table: display(relation), before: "old AS (DELETE FROM ONLY \(name(relation)) WHERE \(condition) RETURNING *)"),
            parameters: parameters, rows: 1)
    }

    public static func delete(_ delete: Delete, from relation: Relation, shape: TableShape) throws(UnappliableChange) -> ChangeStatement {
        var parameters: [String?] = []
        let condition = try rowCondition(relation, shape: shape, key: delete.oldKey, old: delete.old, new: nil, parameters: &parameters)
        return ChangeStatement(sql: RowCountGuard.guarded("DELETE FROM ONLY \(name(relation)) WHERE \(condition)", expected: "1", table: display(relation)),
                               parameters: parameters, rows: 1)
    }

    public static func truncate(_ truncate: Truncate, relations: [Relation]) -> ChangeStatement {
        let options = (truncate.restartIdentity ? " RESTART IDENTITY" : "") + (truncate.cascade ? " CASCADE" : "")
        return ChangeStatement(sql: "TRUNCATE \(relations.map { "ONLY \(name($0))" }.joined(separator: ", "))\(options)", parameters: [], rows: nil)
    }

    struct ColumnValue {
        let name: String
        let isKey: Bool
        let value: String?
        let unchangedToast: Bool
    }

    static func columnValues(_ tuple: TupleData, of relation: Relation) throws(UnappliableChange) -> [ColumnValue] {
        guard tuple.values.count == relation.columns.count else {
            throw UnappliableChange(table: display(relation),
                                    reason: "the row has \(tuple.values.count) columns, the Relation message \(relation.columns.count)")
        }
        return zip(relation.columns, tuple.values).map { column, value in
            switch value {
            case .null: ColumnValue(name: column.name, isKey: column.isKey, value: nil, unchangedToast: false)
            case .unchangedToast: ColumnValue(name: column.name, isKey: column.isKey, value: nil, unchangedToast: true)
            case .text(let bytes): ColumnValue(name: column.name, isKey: column.isKey, value: String(decoding: bytes, as: UTF8.self), unchangedToast: false)
            }
        }
    }

    /// The WHERE clause that finds the one row a change is about, appending its parameters.
    static func rowCondition(_ relation: Relation, shape: TableShape, key: TupleData?, old: TupleData?, new: [ColumnValue]?,
                             parameters: inout [String?]) throws(UnappliableChange) -> String {
        if let old {
            // REPLICA IDENTITY FULL: every column of the old row; exactly one row.
            let values = try columnValues(old, of: relation)
            let tests = values.indices.filter { !values[$0].unchangedToast }.map { index -> String in
                parameters.append(values[index].value)
                return fullMatch(column: quoteIdentifier(values[index].name), parameter: "$\(parameters.count)::text",
                                 equality: shape.equality.indices.contains(index) ? shape.equality[index].map { ($0, shape.castTypes[index]) } : nil)
            }
            let match = tests.isEmpty ? "true" : tests.joined(separator: " AND ")  // a table without columns
            return "(tableoid, ctid) = (SELECT tableoid, ctid FROM ONLY \(name(relation)) WHERE \(match) LIMIT 1)"
        }
        let source = try key.map { tuple throws(UnappliableChange) in try columnValues(tuple, of: relation) } ?? new
        let values = source ?? []
        let keys = values.indices.filter { values[$0].isKey }  // columnValues keeps the Relation's order
        guard !keys.isEmpty, relation.replicaIdentity != UInt8(ascii: "n") else {
            throw UnappliableChange(table: display(relation), reason: "it has no replica identity the passive can find rows by")
        }
        return keys.map { index in
            parameters.append(values[index].value)
            // Typed: an untyped parameter against a composite column would be read as `record`.
            return "\(quoteIdentifier(values[index].name)) \(shape.equals(index)) $\(parameters.count)\(shape.cast(index))"
        }.joined(separator: " AND ")
    }

    /// One column of a FULL old row: NULL for NULL, else the same output text, and the same
    /// value where the type has equality (`equality`: its operator and the cast from text).
    /// `format` prints NULL as '', and `IS NULL` is true of a composite whose fields are all NULL: `num_nulls` is exact.
    /// The text compares byte for byte (`COLLATE "C"`): under a case-insensitive collation of
    /// the column's, 'abc' would match 'ABC'.
    static func fullMatch(column: String, parameter: String, equality: (operator: String, type: String)?) -> String {
        let nulls = "num_nulls(\(column))"
        let text = "(\(nulls) = 1 AND \(parameter) IS NULL OR \(nulls) = 0 AND format('%s', \(column)) COLLATE \"C\" = \(parameter))"
        guard let equality else { return text }
        return "(\(parameter) IS NULL OR \(column) \(equality.operator) \(parameter)::\(equality.type)) AND \(text)"
    }

    static func name(_ relation: Relation) -> String { qualifiedName(relation.namespace, relation.name) }
    static func display(_ relation: Relation) -> String { "\(relation.namespace).\(relation.name)" }
}
