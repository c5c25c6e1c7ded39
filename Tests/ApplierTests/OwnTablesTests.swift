@testable import Applier
@testable import PgOutput
import Testing

/// continuity's own tables never travel through a stream: their changes are dropped, whatever
/// publication carries them, and only theirs.
@Suite struct OwnTablesTests {
    static func relation(_ oid: UInt32, _ schema: String) -> PgOutputMessage {
        .relation(Relation(oid: oid, namespace: schema, name: "t", replicaIdentity: UInt8(ascii: "d"),
                           columns: [.init(isKey: true, name: "id", typeOID: 23, typeModifier: -1)]))
    }
    static let row = TupleData(values: [.text(Array("1".utf8)[...])])

    @Test func changesToContinuitysTablesAreDroppedAndOthersKept() {
        var own = OwnTables()
        #expect(own.filter(Self.relation(10, "continuity")) == nil)
        #expect(own.filter(Self.relation(11, "public")) == Self.relation(11, "public"))
        #expect(own.filter(.insert(Insert(relation: 10, new: Self.row))) == nil)
        #expect(own.filter(.update(Update(relation: 10, oldKey: nil, old: nil, new: Self.row))) == nil)
        #expect(own.filter(.delete(Delete(relation: 10, oldKey: Self.row, old: nil))) == nil)
        #expect(own.filter(.insert(Insert(relation: 11, new: Self.row))) == .insert(Insert(relation: 11, new: Self.row)))
        // A TRUNCATE of both keeps only the user's table; of continuity's alone, nothing.
        #expect(own.filter(.truncate(Truncate(cascade: true, restartIdentity: false, relations: [10, 11])))
                == .truncate(Truncate(cascade: true, restartIdentity: false, relations: [11])))
        #expect(own.filter(.truncate(Truncate(cascade: false, restartIdentity: false, relations: [10]))) == nil)
        // Transaction boundaries always pass: an empty transaction still moves the progress row.
        let begin = PgOutputMessage.begin(Begin(finalLSN: .zero, commitTime: 0, xid: 1))
        #expect(own.filter(begin) == begin)
    }

    @Test func aRelationIdReusedByAUserTableIsAppliedAgain() {
        var own = OwnTables()
        _ = own.filter(Self.relation(10, "continuity"))
        _ = own.filter(Self.relation(10, "public"))
        #expect(own.filter(.insert(Insert(relation: 10, new: Self.row))) != nil)
    }
}
