import PgOutput
import PostgresClient
import PostgresTypes

/// The changes to one table since the last flush, turned into set-based statements: one
/// DELETE, one UPDATE per set of assigned columns, one INSERT, each over arrays.
///
/// A keyed table (replica identity: primary key or unique index) folds its changes into one
/// net change per key. A table without a key (REPLICA IDENTITY FULL) only collects a run of
/// inserts; its updates and deletes are applied one by one, in order, after that run.
///
/// Folding is what sequential application would leave: an insert then updates is one insert
/// of the last row; updates merge (a later unchanged TOAST value keeps the earlier one); an
/// insert then a delete is nothing; a delete then an insert replaces the row. A sequence
/// that cannot have happened on a consistent passive (an insert of a key already inserted,
/// an update after a delete) is not folded: `add` returns false and the applier applies that
/// change on its own, in order, so the server says what is wrong. Pure: unit-tested.
public struct NetChanges {
    public let relation: Relation
    /// The passive's table: the casts from text, and the GENERATED ALWAYS identity columns
    /// (never in an UPDATE's SET).
    let shape: TableShape
    /// Whether rows are found by a key (else by the whole old row: nothing to fold by). A
    /// table described with a default identity but no key column (a partitioned root keyed
    /// only on its leaves, published through the root) has none: folding it under an empty
    /// key would merge every row into one.
    let keyed: Bool
    /// A GENERATED ALWAYS identity column outside the key: an UPDATE cannot set it, so its
    /// updates go one by one (`ChangeSQL.update` deletes and inserts the row again).
    let looseIdentity: Bool
    private var net: [RowKey: Net] = [:]
    /// Inserts into a table without a key, in order.
    private var inserts: [[Slot]] = []
    private var order: [RowKey] = []
    public private(set) var count = 0
    /// Roughly the text held, to bound memory.
    public private(set) var bytes = 0

    enum Slot: Equatable {
        case value(String?)
        case unchanged
    }

    enum Net: Equatable {
        case insert([Slot])
        case update([Slot])
        case replace([Slot])
        case delete
    }

    public init(relation: Relation, shape: TableShape) {
        self.relation = relation
        self.shape = shape
        keyed = (relation.replicaIdentity == UInt8(ascii: "d") || relation.replicaIdentity == UInt8(ascii: "i"))
            && relation.columns.contains(where: \.isKey)
        looseIdentity = relation.columns.contains { !$0.isKey && shape.alwaysIdentity.contains($0.name) }
    }

    public var isEmpty: Bool { count == 0 }

    private var keyIndexes: [Int] { relation.columns.indices.filter { relation.columns[$0].isKey } }

    /// The row's key values, or nil when one is missing (an unchanged TOAST key: not folded).
    private func key(of row: [Slot]) -> RowKey? {
        var key: [String?] = []
        for index in keyIndexes {
            guard case .value(let value) = row[index] else { return nil }
            key.append(value)
        }
        return RowKey(values: key)
    }

    /// Folds an insert in; false when it cannot be folded (apply it on its own, in order).
    public mutating func add(_ insert: Insert) throws(UnappliableChange) -> Bool {
        let row = try slots(insert.new)
        guard !row.isEmpty, !row.contains(.unchanged) else { return false }
        guard keyed else {
            inserts.append(row)
            count += 1
            bytes += Self.size(row)
            return true
        }
        guard let key = key(of: row) else { return false }
        switch net[key] {
        case nil: record(key, .insert(row))
        case .delete: record(key, .replace(row))
        default: return false
        }
        bytes += Self.size(row)
        return true
    }

    /// Folds an update in; false for a key change or an update of a deleted row.
    public mutating func add(_ update: Update) throws(UnappliableChange) -> Bool {
        guard keyed, !looseIdentity, update.oldKey == nil, update.old == nil else { return false }
        let row = try slots(update.new)
        guard let key = key(of: row) else { return false }
        switch net[key] {
        case nil: record(key, .update(row))
        case .insert(let earlier): record(key, .insert(Self.merge(earlier, row)))
        case .update(let earlier): record(key, .update(Self.merge(earlier, row)))
        case .replace(let earlier): record(key, .replace(Self.merge(earlier, row)))
        case .delete: return false
        }
        bytes += Self.size(row)
        return true
    }

    /// Folds a delete (found by its old key) in; false for a delete of a deleted row.
    public mutating func add(_ delete: Delete) throws(UnappliableChange) -> Bool {
        guard keyed, let oldKey = delete.oldKey else { return false }
        guard let key = key(of: try slots(oldKey)) else { return false }
        switch net[key] {
        case .insert: remove(key)
        case nil, .update, .replace: record(key, .delete)
        case .delete: return false
        }
        return true
    }

    /// Deletes first (so a replaced row's key and unique values are free), then updates, then
    /// inserts. Each must change exactly as many rows as it carries (`RowCountGuard`, counted
    /// from the first array); updates with nothing to assign check that their rows are there.
    public func statements() -> [ChangeStatement] {
        var deletes: [RowKey] = [], inserts = self.inserts
        var updates: [[Bool]: [[Slot]]] = [:], updateShapes: [[Bool]] = []
        var seen = Set<RowKey>()
        for key in order where seen.insert(key).inserted {
            guard let change = net[key] else { continue }  // inserted, then deleted
            switch change {
            case .delete: deletes.append(key)
            case .insert(let row): inserts.append(row)
            case .replace(let row):
                deletes.append(key)
                inserts.append(row)
            case .update(let row):
                let shape = row.indices.map { settable($0) && row[$0] != .unchanged }
                if updates[shape] == nil { updateShapes.append(shape) }
                updates[shape, default: []].append(row)
            }
        }
        var statements: [ChangeStatement] = []
        if !deletes.isEmpty { statements.append(deleteStatement(deletes)) }
        for shape in updateShapes { statements.append(updateStatement(updates[shape]!, shape: shape)) }
        if !inserts.isEmpty { statements.append(insertStatement(inserts)) }
        return statements
    }

    private func settable(_ index: Int) -> Bool {
        !relation.columns[index].isKey && !shape.alwaysIdentity.contains(relation.columns[index].name)
    }

    private func deleteStatement(_ keys: [RowKey]) -> ChangeStatement {
        let keyColumns = keyIndexes
        let arrays = keyColumns.indices.map { position in keys.map { $0.values[position] } }
        return ChangeStatement(sql: guarded("DELETE FROM ONLY \(table) t USING \(unnest(arrays.count)) WHERE \(keyMatch(keyColumns))"),
                         parameters: arrays.map(Self.arrayLiteral), rows: keys.count)
    }

    private func updateStatement(_ rows: [[Slot]], shape: [Bool]) -> ChangeStatement {
        let keyColumns = keyIndexes, assigned = shape.indices.filter { shape[$0] }
        let columns = keyColumns + assigned
        let arrays = columns.map { index in rows.map { Self.value($0[index]) } }
        let set = assigned.enumerated().map { "\(column($1)) = v.a\(keyColumns.count + $0 + 1)::\(cast($1))" }.joined(separator: ", ")
        let match = keyMatch(keyColumns)
        guard !assigned.isEmpty else {
            // Nothing to write (key or unchanged TOAST columns only): the rows must still be there.
            return ChangeStatement(sql: RowCountGuard.check(from: "ONLY \(table) t, \(unnest(arrays.count)) WHERE \(match)",
                                                      expected: "cardinality($1::text[])", table: display),
                             parameters: arrays.map(Self.arrayLiteral), rows: rows.count)
        }
        return ChangeStatement(sql: guarded("UPDATE ONLY \(table) t SET \(set) FROM \(unnest(arrays.count)) WHERE \(match)"),
                         parameters: arrays.map(Self.arrayLiteral), rows: rows.count)
    }

    private func insertStatement(_ rows: [[Slot]]) -> ChangeStatement {
        let columns = relation.columns.indices
        let arrays = columns.map { index in rows.map { Self.value($0[index]) } }
        let names = columns.map(column).joined(separator: ", ")
        let values = columns.map { "v.a\($0 + 1)::\(cast($0))" }.joined(separator: ", ")
        return ChangeStatement(sql: guarded("INSERT INTO \(table) (\(names)) OVERRIDING SYSTEM VALUE SELECT \(values) FROM \(unnest(arrays.count))"),
                         parameters: arrays.map(Self.arrayLiteral), rows: rows.count)
    }

    private var table: String { qualifiedName(relation.namespace, relation.name) }
    private func column(_ index: Int) -> String { quoteIdentifier(relation.columns[index].name) }
    /// `text` if the passive's table has fewer columns than the Relation: ShapeCheck refuses
    /// that before any change is folded, so it never reaches the server.
    private func cast(_ index: Int) -> String { shape.castTypes.indices.contains(index) ? shape.castTypes[index] : "text" }

    private var display: String { "\(relation.namespace).\(relation.name)" }

    /// The key columns against the first arrays, by each type's own equality (`TableShape`).
    private func keyMatch(_ keyColumns: [Int]) -> String {
        keyColumns.enumerated().map { "t.\(column($1)) \(shape.equals($1)) v.a\($0 + 1)::\(cast($1))" }.joined(separator: " AND ")
    }

    private func guarded(_ statement: String) -> String {
        RowCountGuard.guarded(statement, expected: "cardinality($1::text[])", table: display)
    }

    /// Only called with at least one array: keyed tables have a key column, inserts a column.
    private func unnest(_ count: Int) -> String {
        let arrays = (0..<count).map { "$\($0 + 1)::text[]" }.joined(separator: ", ")
        let names = (0..<count).map { "a\($0 + 1)" }.joined(separator: ", ")
        return "unnest(\(arrays)) AS v(\(names))"
    }

    /// A text[] literal: every element quoted, backslashes and quotes escaped, NULL bare.
    /// Built as UTF-8 bytes: a byte-wise escape is exact (no multi-byte sequence contains `\` or
    /// `"`), and appending scalar by scalar to a String was a fifth of the stream's CPU.
    static func arrayLiteral(_ values: [String?]) -> String {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.count * 16)
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard var value else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(quote)
            value.withUTF8 { utf8 in
                guard utf8.contains(where: { $0 == quote || $0 == backslash }) else { return bytes.append(contentsOf: utf8) }
                for byte in utf8 {
                    if byte == quote || byte == backslash { bytes.append(backslash) }
                    bytes.append(byte)
                }
            }
            bytes.append(quote)
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func value(_ slot: Slot) -> String? {
        if case .value(let value) = slot { value } else { nil }
    }

    private static func merge(_ earlier: [Slot], _ later: [Slot]) -> [Slot] {
        zip(earlier, later).map { $1 == .unchanged ? $0 : $1 }
    }

    private static func size(_ row: [Slot]) -> Int {
        row.reduce(0) { total, slot in if case .value(let value?) = slot { total + value.utf8.count } else { total } }
    }

    private func slots(_ tuple: TupleData) throws(UnappliableChange) -> [Slot] {
        try ChangeSQL.columnValues(tuple, of: relation).map { $0.unchangedToast ? .unchanged : .value($0.value) }
    }

    private mutating func record(_ key: RowKey, _ change: Net) {
        if net.updateValue(change, forKey: key) == nil { order.append(key) }
        count += 1
    }

    /// `order` keeps the key (removing it would cost a scan); `statements` skips it.
    private mutating func remove(_ key: RowKey) {
        net[key] = nil
        count += 1
    }
}

/// A row's key values, equal when their bytes are: Swift's String equality is Unicode
/// canonical equivalence, so `é` and `e` + combining accent would fold into one key, where
/// PostgreSQL holds two rows.
struct RowKey: Hashable {
    let values: [String?]

    static func == (lhs: RowKey, rhs: RowKey) -> Bool {
        lhs.values.count == rhs.values.count && zip(lhs.values, rhs.values).allSatisfy(sameBytes)
    }

    func hash(into hasher: inout Hasher) {
        for value in values {
            guard let value else {
                hasher.combine(0 as UInt8)
                continue
            }
            hasher.combine(1 as UInt8)
            hasher.combine(value.utf8.count)
            if value.utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
                for byte in value.utf8 { hasher.combine(byte) }
            }
        }
    }
}

/// Text equality as PostgreSQL's C collation sees it: byte for byte.
func sameBytes(_ left: String?, _ right: String?) -> Bool {
    switch (left, right) {
    case (nil, nil): true
    case (let left?, let right?): left.utf8.elementsEqual(right.utf8)
    default: false
    }
}
