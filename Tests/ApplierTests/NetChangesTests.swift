@testable import Applier
@testable import PgOutput
import PostgresClient
import Testing
import TestSupport

/// Folding per key, and the set-based statements, checked against sequential application on
/// a real server.
@Suite struct NetChangesTests {
    static let relation = Relation(oid: 7, namespace: "public", name: "t", replicaIdentity: UInt8(ascii: "d"), columns: [
        .init(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
        .init(isKey: false, name: "big", typeOID: 25, typeModifier: -1),
        .init(isKey: false, name: "n", typeOID: 23, typeModifier: -1),
    ])
    static let shape = TableShape(castTypes: ["integer", "text", "integer"], equality: Array(repeating: "OPERATOR(pg_catalog.=)", count: 3))
    static func row(_ values: TupleData.Value...) -> TupleData { TupleData(values: values) }
    static func text(_ value: String) -> TupleData.Value { .text(Array(value.utf8)[...]) }
    static func insert(_ id: Int, _ big: String, _ n: Int) -> Insert { Insert(relation: 7, new: row(text("\(id)"), text(big), text("\(n)"))) }
    static func update(_ id: Int, n: Int) -> Update { Update(relation: 7, oldKey: nil, old: nil, new: row(text("\(id)"), .unchangedToast, text("\(n)"))) }
    static func delete(_ id: Int) -> Delete { Delete(relation: 7, oldKey: row(text("\(id)"), .null, .null), old: nil) }

    @Test func foldsWhatSequentialApplicationWouldLeave() throws {
        var changes = NetChanges(relation: Self.relation, shape: Self.shape)
        #expect(try changes.add(Self.insert(1, "a", 1)))
        #expect(try changes.add(Self.update(1, n: 2)))        // insert + update = insert of the last row
        #expect(try changes.add(Self.insert(2, "b", 1)))
        #expect(try changes.add(Self.delete(2)))              // insert + delete = nothing
        #expect(try changes.add(Self.update(3, n: 5)))
        #expect(try changes.add(Self.update(3, n: 6)))        // updates merge
        #expect(try changes.add(Self.delete(4)))
        #expect(try changes.add(Self.insert(4, "d", 4)))      // delete + insert = replace
        #expect(try !changes.add(Self.insert(1, "again", 0))) // cannot have happened: applied on its own
        #expect(try changes.add(Self.update(5, n: 1)))        // a row not changed before
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

    /// The statements on a real server leave what the changes one by one leave.
    @Test func setBasedStatementsMatchSequentialOnes() async throws {
        try await withTestDatabase(on: TestBed.passive) { dsn in
            try await withConnection(dsn) { sql in
                try await sql.execute("""
                    CREATE TABLE t (id int PRIMARY KEY, big text, n int);
                    INSERT INTO t VALUES (3, repeat('x', 5000), 0), (4, 'old', 0), (5, E'tab\\there "quoted" \\\\ back', 0);
                    """)
                try await StreamProgress.createTable(on: sql)
                var changes = NetChanges(relation: Self.relation, shape: Self.shape)
                for change in [Self.insert(1, "a,{b}\"", 1), Self.insert(2, "b", 1)] { _ = try changes.add(change) }
                for change in [Self.update(1, n: 2), Self.update(3, n: 5), Self.update(3, n: 6), Self.update(5, n: 9)] { _ = try changes.add(change) }
                for change in [Self.delete(2), Self.delete(4)] { _ = try changes.add(change) }
                _ = try changes.add(Self.insert(4, "new", 4))
                for statement in changes.statements() {
                    let result = try await sql.query(statement.sql, statement.parameters)
                    #expect((result.rows.first?["expect_rows"]).flatMap { Int($0) } ?? result.affectedRows == statement.rows)
                }
                let rows = try await sql.query("SELECT id, length(big) AS big, n FROM t ORDER BY id").rows.map { [$0["id"], $0["big"], $0["n"]] }
                #expect(rows == [["1", "6", "2"], ["3", "5000", "6"], ["4", "3", "4"], ["5", "24", "9"]])
            }
        }
    }

    /// A delete or update that finds fewer rows than it carries raises on the passive, so the
    /// transaction it is in cannot commit.
    @Test func aChangeThatFindsTooFewRowsRaises() async throws {
        try await withTestDatabase(on: TestBed.passive) { dsn in
            try await withConnection(dsn) { sql in
                try await StreamProgress.createTable(on: sql)
                try await sql.execute("CREATE TABLE t (id int PRIMARY KEY, big text, n int); INSERT INTO t VALUES (1, 'a', 1)")
                var missingDelete = NetChanges(relation: Self.relation, shape: Self.shape)
                var missingUpdate = missingDelete
                _ = try missingDelete.add(Self.delete(2))
                _ = try missingUpdate.add(Self.update(3, n: 1))
                for changes in [missingDelete, missingUpdate] {
                    for statement in changes.statements() {
                        let error = await #expect(throws: ServerError.self) { try await sql.execute(statement.sql, statement.parameters) }
                        #expect(error.flatMap(RowCountGuard.unappliable)?.table == "public.t")
                    }
                }
                #expect(try await sql.query("SELECT count(*) FROM t").scalar(Int.self) == 1)
            }
        }
    }

    /// A partitioned root keyed only on its leaves, described through the root, has no key
    /// column: nothing is folded (an empty key would merge every row), and nothing traps.
    @Test func aTableWithoutKeyColumnsIsNotFolded() throws {
        let root = Relation(oid: 8, namespace: "public", name: "root", replicaIdentity: UInt8(ascii: "d"), columns: [
            .init(isKey: false, name: "id", typeOID: 23, typeModifier: -1)])
        var changes = NetChanges(relation: root, shape: TableShape(castTypes: ["integer"], equality: ["OPERATOR(pg_catalog.=)"]))
        #expect(try !changes.add(Delete(relation: 8, oldKey: Self.row(Self.text("1")), old: nil)))
        #expect(try !changes.add(Update(relation: 8, oldKey: nil, old: nil, new: Self.row(Self.text("1")))))
        #expect(changes.statements().isEmpty)
    }
}
