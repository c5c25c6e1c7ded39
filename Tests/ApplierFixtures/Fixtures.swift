import Applier
@testable import PgOutput
import TestSupport

// What ApplierTests and ApplierIntegrationTests share (a test target cannot import another).

/// The captured workload's changes (see PgOutputTests/FixtureTests.swift for its statements).
public enum CapturedChanges {
    public static let messages = CapturedWorkload.messages.compactMap { try? PgOutputMessage.decode($0[...]) }

    public static var relations: [UInt32: Relation] {
        Dictionary(messages.compactMap { if case .relation(let r) = $0 { (r.oid, r) } else { nil } }, uniquingKeysWith: { $1 })
    }

    public static let equals = "OPERATOR(pg_catalog.=)"

    /// The passive's view of a captured table: int and text columns compare by value.
    public static func shape(_ relation: Relation) -> TableShape {
        TableShape(castTypes: relation.columns.map { $0.typeOID == 23 ? "integer" : "text" },
                   equality: relation.columns.map { [23, 25].contains($0.typeOID) ? "OPERATOR(pg_catalog.=)" : nil })
    }

    /// The captured transaction without its final TRUNCATE, so there are rows to compare.
    public static var transaction: [PgOutputMessage] {
        messages.filter { if case .truncate = $0 { false } else { true } }
    }

    /// Every change of the capture, as statements, in order.
    public static func statements() throws -> [ChangeStatement] {
        let relations = Self.relations
        return try messages.compactMap { message -> ChangeStatement? in
            switch message {
            case .insert(let insert): try ChangeSQL.insert(insert, into: relations[insert.relation]!)
            case .update(let update): try ChangeSQL.update(update, of: relations[update.relation]!, shape: shape(relations[update.relation]!))
            case .delete(let delete): try ChangeSQL.delete(delete, from: relations[delete.relation]!, shape: shape(relations[delete.relation]!))
            case .truncate(let truncate): ChangeSQL.truncate(truncate, relations: truncate.relations.map { relations[$0]! })
            default: nil
            }
        }
    }
}

/// One table's changes for folding per key, checked without a server and on one.
public enum NetChangesFixture {
    public static let relation = Relation(oid: 7, namespace: "public", name: "t", replicaIdentity: UInt8(ascii: "d"), columns: [
        .init(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
        .init(isKey: false, name: "big", typeOID: 25, typeModifier: -1),
        .init(isKey: false, name: "n", typeOID: 23, typeModifier: -1),
    ])
    public static let shape = TableShape(castTypes: ["integer", "text", "integer"], equality: Array(repeating: "OPERATOR(pg_catalog.=)", count: 3))
    public static func row(_ values: TupleData.Value...) -> TupleData { TupleData(values: values) }
    public static func text(_ value: String) -> TupleData.Value { .text(Array(value.utf8)[...]) }
    public static func insert(_ id: Int, _ big: String, _ n: Int) -> Insert { Insert(relation: 7, new: row(text("\(id)"), text(big), text("\(n)"))) }
    public static func update(_ id: Int, n: Int) -> Update { Update(relation: 7, oldKey: nil, old: nil, new: row(text("\(id)"), .unchangedToast, text("\(n)"))) }
    public static func delete(_ id: Int) -> Delete { Delete(relation: 7, oldKey: row(text("\(id)"), .null, .null), old: nil) }
}
