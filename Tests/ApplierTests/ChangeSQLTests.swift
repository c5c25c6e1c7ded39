@testable import Applier
@testable import PgOutput
import PostgresClient
import Testing
import TestSupport

/// The SQL for the captured workload (see PgOutputTests/FixtureTests.swift for its statements).
@Suite struct ChangeSQLTests {
    static let messages = CapturedWorkload.messages.compactMap { try? PgOutputMessage.decode($0[...]) }

    static var relations: [UInt32: Relation] {
        Dictionary(messages.compactMap { if case .relation(let r) = $0 { (r.oid, r) } else { nil } }, uniquingKeysWith: { $1 })
    }

    static let equals = "OPERATOR(pg_catalog.=)"

    /// The passive's view of a captured table: int and text columns compare by value.
    static func shape(_ relation: Relation) -> TableShape {
        TableShape(castTypes: relation.columns.map { $0.typeOID == 23 ? "integer" : "text" },
                   equality: relation.columns.map { [23, 25].contains($0.typeOID) ? "OPERATOR(pg_catalog.=)" : nil })
    }

    /// Every change of the capture, as statements, in order.
    static func statements() throws -> [ChangeStatement] {
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

    @Test func insertsNameEveryColumn() throws {
        let first = try Self.statements()[0]
        #expect(first.sql == #"WITH changed AS (INSERT INTO "public"."items" ("id", "note", "big", "feeling") OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4) RETURNING 1) SELECT continuity.expect_rows(count(*), 1, E'public.items') FROM changed"#)
        #expect(first.parameters == ["1", "tab\there", nil, "happy"])
    }

    @Test func updatesLeaveUnchangedToastAloneAndFindTheRowByKey() throws {
        let statements = try Self.statements()
        #expect(statements[2].sql == #"WITH changed AS (UPDATE ONLY "public"."items" SET "id" = $1, "note" = $2, "feeling" = $3 WHERE "id" OPERATOR(pg_catalog.=) $4::integer RETURNING 1) SELECT continuity.expect_rows(count(*), 1, E'public.items') FROM changed"#)
        #expect(statements[2].parameters == ["2", "changed", "ok", "2"])
        // The key changed: the row is found by the old key.
        #expect(statements[3].sql.contains(#"WHERE "id" OPERATOR(pg_catalog.=) $5::integer RETURNING 1"#))
        #expect(statements[3].parameters.first == "3" && statements[3].parameters.last == "1")
    }

    @Test func replicaIdentityFullTouchesExactlyOneRow() throws {
        let update = try Self.statements()[6]
        #expect(update.sql.contains(#"WHERE (tableoid, ctid) = (SELECT tableoid, ctid FROM ONLY "public"."full_rows" WHERE ($3::text IS NULL OR "a" OPERATOR(pg_catalog.=) $3::text::integer) AND (num_nulls("a") = 1 AND $3::text IS NULL OR num_nulls("a") = 0 AND format('%s', "a") COLLATE "C" = $3::text) AND "#))
        #expect(update.parameters == ["1", "b", "1", "a"])
    }

    @Test func deletesAndTruncate() throws {
        let statements = try Self.statements()
        #expect(statements[7].sql == #"WITH changed AS (DELETE FROM ONLY "public"."items" WHERE "id" OPERATOR(pg_catalog.=) $1::integer RETURNING 1) SELECT continuity.expect_rows(count(*), 1, E'public.items') FROM changed"#)
        #expect(statements[7].parameters == ["3"])
        #expect(statements[9].sql == #"TRUNCATE ONLY "public"."items", ONLY "public"."full_rows" RESTART IDENTITY CASCADE"#)
    }

    @Test func anUpdateOfOnlyUnchangedToastIsNothingToApply() throws {
        let relation = Relation(oid: 1, namespace: "public", name: "t", replicaIdentity: UInt8(ascii: "f"),
                                columns: [.init(isKey: true, name: "big", typeOID: 25, typeModifier: -1)])
        let update = Update(relation: 1, oldKey: nil, old: TupleData(values: [.text(Array("x".utf8)[...])]),
                            new: TupleData(values: [.unchangedToast]))
        // Nothing to write: the statement only checks that the row is there.
        let check = try ChangeSQL.update(update, of: relation, shape: Self.shape(relation))
        #expect(check.sql.hasPrefix(#"SELECT continuity.expect_rows(count(*), 1, E'public.t') FROM ONLY "public"."t" WHERE (tableoid, ctid) = "#))
    }

    @Test func refusesWhatCannotBeApplied() throws {
        let relation = Relation(oid: 1, namespace: "public", name: "t", replicaIdentity: UInt8(ascii: "n"),
                                columns: [.init(isKey: false, name: "a", typeOID: 23, typeModifier: -1)])
        #expect(throws: UnappliableChange.self) {
            try ChangeSQL.delete(Delete(relation: 1, oldKey: nil, old: nil), from: relation, shape: Self.shape(relation))
        }
        #expect(throws: UnappliableChange.self) {
            try ChangeSQL.insert(Insert(relation: 1, new: TupleData(values: [.null, .null])), into: relation)
        }
        #expect(throws: UnappliableChange.self) {
            try ChangeSQL.insert(Insert(relation: 1, new: TupleData(values: [.unchangedToast])), into: relation)
        }
    }

    /// GENERATED ALWAYS identity columns cannot be SET: an unchanged one is left out, a key
    /// that moved is applied as delete-and-insert, which keeps an unchanged TOAST column.
    @Test func alwaysIdentityColumnsAreNeverSet() async throws {
        let relation = Relation(oid: 1, namespace: "public", name: "t", replicaIdentity: UInt8(ascii: "d"),
                                columns: [.init(isKey: true, name: "id", typeOID: 20, typeModifier: -1),
                                          .init(isKey: false, name: "big", typeOID: 25, typeModifier: -1),
                                          .init(isKey: false, name: "n", typeOID: 23, typeModifier: -1)])
        func text(_ value: String) -> TupleData.Value { .text(Array(value.utf8)[...]) }
        let same = Update(relation: 1, oldKey: nil, old: nil, new: TupleData(values: [text("1"), .unchangedToast, text("5")]))
        let moved = Update(relation: 1, oldKey: TupleData(values: [text("1"), .null, .null]), old: nil,
                           new: TupleData(values: [text("7"), .unchangedToast, text("6")]))
        let shape = TableShape(castTypes: ["bigint", "text", "integer"], equality: [Self.equals, Self.equals, Self.equals], alwaysIdentity: ["id"])
        let sameSQL = try ChangeSQL.update(same, of: relation, shape: shape)
        #expect(sameSQL.sql.hasPrefix(#"WITH changed AS (UPDATE ONLY "public"."t" SET "n" = $1 WHERE "id" OPERATOR(pg_catalog.=) $2::bigint RETURNING 1)"#))
        let movedSQL = try ChangeSQL.update(moved, of: relation, shape: shape)
        try await withTestDatabase(on: TestBed.passive) { dsn in
            try await withConnection(dsn) { passive in
                try await StreamProgress.createTable(on: passive)
                try await passive.execute("CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, big text, n int); INSERT INTO t (big, n) VALUES (repeat('x', 9000), 4)")
                #expect(try await passive.query(sameSQL.sql, sameSQL.parameters).scalar(Int.self) == 1)
                #expect(try await passive.query(movedSQL.sql, movedSQL.parameters).scalar(Int.self) == 1)
                let row = try await passive.query("SELECT id, length(big) AS big, n FROM t").rows.map { [$0["id"], $0["big"], $0["n"]] }
                #expect(row == [["7", "9000", "6"]])
            }
        }
    }

    /// The statements, run on a real server with the workload's schema, leave what the
    /// workload left before its final TRUNCATE: one changed row with its TOASTed value intact,
    /// and exactly one of the two duplicate rows.
    @Test func replayingTheCaptureOnPostgreSQLGivesTheSourcesRows() async throws {
        try await withTestDatabase(on: TestBed.passive) { dsn in
            try await withConnection(dsn) { passive in
                try await passive.execute(CapturedWorkload.schema)
                try await StreamProgress.createTable(on: passive)
                for statement in try Self.statements().dropLast() {  // all but the TRUNCATE
                    try await passive.execute(statement.sql, statement.parameters)
                }
                let items = try await passive.query("SELECT id, note, length(big) AS big, feeling FROM items").rows
                #expect(items.map { [$0["id"], $0["note"], $0["big"], $0["feeling"]] } == [["2", "changed", "12800", "ok"]])
                let full = try await passive.query("SELECT a, b FROM full_rows").rows
                #expect(full.map { [$0["a"], $0["b"]] } == [["1", "a"]])
            }
        }
    }
}
