@testable import Applier
import ApplierFixtures
@testable import PgOutput
import PostgresClient
import TestSupport
import Testing

/// Folding per key, and the set-based statements, checked against sequential application on
/// a real server.
@Suite struct NetChangesTests {
    @Test func foldsWhatSequentialApplicationWouldLeave() throws {
        var changes = NetChanges(relation: NetChangesFixture.relation, shape: NetChangesFixture.shape)
        #expect(try changes.add(NetChangesFixture.insert(1, "a", 1)))
        #expect(try changes.add(NetChangesFixture.update(1, n: 2)))        // insert + update = insert of the last row
        #expect(try changes.add(NetChangesFixture.insert(2, "b", 1)))
        #expect(try changes.add(NetChangesFixture.delete(2)))              // insert + delete = nothing
        #expect(try changes.add(NetChangesFixture.update(3, n: 5)))
        #expect(try changes.add(NetChangesFixture.update(3, n: 6)))        // updates merge
        #expect(try changes.add(NetChangesFixture.delete(4)))
        #expect(try changes.add(NetChangesFixture.insert(4, "d", 4)))      // delete + insert = replace
        #expect(try !changes.add(NetChangesFixture.insert(1, "again", 0))) // cannot have happened: applied on its own
        #expect(try changes.add(NetChangesFixture.update(5, n: 1)))        // a row not changed before
        let statements = changes.statements()
        #expect(statements.map(\.rows) == [1, 2, 2])  // delete 4; update 3 and 5; insert 1 and 4
        #expect(statements[0].sql == #"WITH changed AS (DELETE FROM ONLY "public"."t" t USING unnest($1::text[]) AS v(a1) WHERE t."id" OPERATOR(pg_catalog.=) v.a1::integer RETURNING 1) SELECT continuity.expect_rows(count(*), cardinality($1::text[]), E'public.t') FROM changed"#)
        #expect(statements[1].sql.hasPrefix(#"WITH changed AS (UPDATE ONLY "public"."t" t SET "n" = v.a2::integer FROM unnest($1::text[], $2::text[]) AS v(a1, a2) WHERE t."id" OPERATOR(pg_catalog.=) v.a1::integer RETURNING 1)"#))
        #expect(statements[1].parameters == ["{\"3\",\"5\"}", "{\"6\",\"1\"}"])
        #expect(statements[2].parameters == ["{\"1\",\"4\"}", "{\"a\",\"d\"}", "{\"2\",\"4\"}"])
    }

    @Test func arrayLiteralsQuoteEverything() {
        #expect(NetChanges.arrayLiteral([nil, "", "a\"b", "c\\d", "{x,y}", "NULL"]) == #"{NULL,"","a\"b","c\\d","{x,y}","NULL"}"#)
    }

    /// A partitioned root keyed only on its leaves, described through the root, has no key
    /// column: nothing is folded (an empty key would merge every row), and nothing traps.
    @Test func aTableWithoutKeyColumnsIsNotFolded() throws {
        let root = Relation(oid: 8, namespace: "public", name: "root", replicaIdentity: UInt8(ascii: "d"), columns: [
            .init(isKey: false, name: "id", typeOID: 23, typeModifier: -1)])
        var changes = NetChanges(relation: root, shape: TableShape(castTypes: ["integer"], equality: ["OPERATOR(pg_catalog.=)"]))
        #expect(try !changes.add(Delete(relation: 8, oldKey: NetChangesFixture.row(NetChangesFixture.text("1")), old: nil)))
        #expect(try !changes.add(Update(relation: 8, oldKey: nil, old: nil, new: NetChangesFixture.row(NetChangesFixture.text("1")))))
        #expect(changes.statements().isEmpty)
    }
}
