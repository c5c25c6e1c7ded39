import PgOutput
import PostgresClient

/// One change from the stream as SQL for the passive: text and text parameters (nil = NULL).
public struct ChangeStatement: Equatable, Sendable {
    public let sql: String
    public let parameters: [String?]
}

/// A change the passive cannot apply as sent; the stream stops and says why.
public struct UnappliableChange: Error, Equatable, CustomStringConvertible {
    public let table: String
    public let reason: String
    public var description: String { "cannot apply a change to \(table): \(reason)" }
}

/// Builds the statements that apply pgoutput changes, from the Relation that describes the
/// table. Pure: no connection, so every rule is unit-tested.
///
/// Rows are found by the replica identity: the old key ('K') when the key changed, the whole
/// old row ('O', REPLICA IDENTITY FULL), else the key columns of the new row. With FULL, rows
/// may be duplicates, so exactly one is touched: `ctid = (SELECT ctid … LIMIT 1)`. Columns
/// compare as text there: the values arrive in the server's text format, and some types (json,
/// point) have no equality operator. Unchanged TOAST columns are left as they are.
public enum ChangeSQL {
    /// OVERRIDING SYSTEM VALUE: the active's values go in as they are, identity columns
    /// declared GENERATED ALWAYS included (the clause is harmless on tables without one).
    public static func insert(_ insert: Insert, into relation: Relation) throws(UnappliableChange) -> ChangeStatement {
        let values = try columnValues(insert.new, of: relation)
        if let unchanged = values.first(where: { $0.unchangedToast }) {
            throw UnappliableChange(table: name(relation), reason: "an insert with an unchanged TOAST value in \(unchanged.name)")
        }
        let columns = values.map { quoteIdentifier($0.name) }.joined(separator: ", ")
        let placeholders = values.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
        return ChangeStatement(sql: "INSERT INTO \(name(relation)) (\(columns)) OVERRIDING SYSTEM VALUE VALUES (\(placeholders))",
                               parameters: values.map(\.value))
    }

    /// nil when every column is an unchanged TOAST value: the passive's row already is the new one.
    ///
    /// `alwaysIdentity`: the passive's GENERATED ALWAYS identity columns, which an UPDATE may
    /// not set. They are left out unless their value is known to change (the old key or old
    /// row says so); then the row is deleted and inserted again in one statement, with
    /// OVERRIDING SYSTEM VALUE. A change to one that is not part of the replica identity
    /// cannot be seen, and is not applied (README, limits).
    public static func update(_ update: Update, of relation: Relation,
                              alwaysIdentity: Set<String> = []) throws(UnappliableChange) -> ChangeStatement? {
        let new = try columnValues(update.new, of: relation)
        let known = try knownOldValues(update, of: relation)
        let identityChanges = new.contains { column in
            alwaysIdentity.contains(column.name) && !column.unchangedToast && known[column.name].map { $0 != column.value } == true
        }
        if identityChanges { return try reinsert(update, new: new, of: relation) }
        let assigned = new.filter { !$0.unchangedToast && !alwaysIdentity.contains($0.name) }
        guard !assigned.isEmpty else { return nil }
        var parameters = assigned.map(\.value)
        let assignments = assigned.enumerated().map { "\(quoteIdentifier($1.name)) = $\($0 + 1)" }.joined(separator: ", ")
        let condition = try rowCondition(relation, key: update.oldKey, old: update.old, new: new, parameters: &parameters)
        return ChangeStatement(sql: "UPDATE \(name(relation)) SET \(assignments) WHERE \(condition)", parameters: parameters)
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
    static func reinsert(_ update: Update, new: [ColumnValue], of relation: Relation) throws(UnappliableChange) -> ChangeStatement {
        var parameters: [String?] = []
        let values = new.map { column -> String in
            guard !column.unchangedToast else { return "old.\(quoteIdentifier(column.name))" }
            parameters.append(column.value)
            return "$\(parameters.count)"
        }
        let condition = try rowCondition(relation, key: update.oldKey, old: update.old, new: new, parameters: &parameters)
        let columns = new.map { quoteIdentifier($0.name) }.joined(separator: ", ")
        return ChangeStatement(sql: """
            WITH old AS (DELETE FROM \(name(relation)) WHERE \(condition) RETURNING *) \
            INSERT INTO \(name(relation)) (\(columns)) OVERRIDING SYSTEM VALUE SELECT \(values.joined(separator: ", ")) FROM old
            """, parameters: parameters)
    }

    public static func delete(_ delete: Delete, from relation: Relation) throws(UnappliableChange) -> ChangeStatement {
        var parameters: [String?] = []
        let condition = try rowCondition(relation, key: delete.oldKey, old: delete.old, new: nil, parameters: &parameters)
        return ChangeStatement(sql: "DELETE FROM \(name(relation)) WHERE \(condition)", parameters: parameters)
    }

    public static func truncate(_ truncate: Truncate, relations: [Relation]) -> ChangeStatement {
        let options = (truncate.restartIdentity ? " RESTART IDENTITY" : "") + (truncate.cascade ? " CASCADE" : "")
        return ChangeStatement(sql: "TRUNCATE \(relations.map(name).joined(separator: ", "))\(options)", parameters: [])
    }

    struct ColumnValue {
        let name: String
        let isKey: Bool
        let value: String?
        let unchangedToast: Bool
    }

    static func columnValues(_ tuple: TupleData, of relation: Relation) throws(UnappliableChange) -> [ColumnValue] {
        guard tuple.values.count == relation.columns.count else {
            throw UnappliableChange(table: name(relation),
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
    static func rowCondition(_ relation: Relation, key: TupleData?, old: TupleData?, new: [ColumnValue]?,
                             parameters: inout [String?]) throws(UnappliableChange) -> String {
        if let old {
            // REPLICA IDENTITY FULL: every column of the old row, as text; exactly one row.
            let columns = try columnValues(old, of: relation).filter { !$0.unchangedToast }
            let tests = columns.map { column -> String in
                parameters.append(column.value)
                return "\(quoteIdentifier(column.name))::text IS NOT DISTINCT FROM $\(parameters.count)"
            }
            return "ctid = (SELECT ctid FROM \(name(relation)) WHERE \(tests.joined(separator: " AND ")) LIMIT 1)"
        }
        let source = try key.map { tuple throws(UnappliableChange) in try columnValues(tuple, of: relation) } ?? new
        let keys = (source ?? []).filter(\.isKey)
        guard !keys.isEmpty, relation.replicaIdentity != UInt8(ascii: "n") else {
            throw UnappliableChange(table: name(relation), reason: "it has no replica identity, so the row cannot be found")
        }
        return keys.map { column in
            parameters.append(column.value)
            return "\(quoteIdentifier(column.name)) = $\(parameters.count)"
        }.joined(separator: " AND ")
    }

    static func name(_ relation: Relation) -> String { qualifiedName(relation.namespace, relation.name) }
}
