@testable import Applier
import ApplierFixtures
@testable import PgOutput
import PostgresClient
import TestSupport
import Testing

/// The SQL for the captured workload (see PgOutputTests/FixtureTests.swift for its statements).
@Suite struct ChangeSQLTests {
    @Test func insertsNameEveryColumn() throws {
        let first = try CapturedChanges.statements()[0]
        #expect(first.sql == #"WITH changed AS (INSERT INTO "public"."items" ("id", "note", "big", "feeling") OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4) RETURNING 1) SELECT continuity.expect_rows(count(*), 1, E'public.items') FROM changed"#)
        #expect(first.parameters == ["1", "tab\there", nil, "happy"])
    }

    @Test func updatesLeaveUnchangedToastAloneAndFindTheRowByKey() throws {
        let statements = try CapturedChanges.statements()
        #expect(statements[2].sql == #"WITH changed AS (UPDATE ONLY "public"."items" SET "id" = $1, "note" = $2, "feeling" = $3 WHERE "id" OPERATOR(pg_catalog.=) $4::integer RETURNING 1) SELECT continuity.expect_rows(count(*), 1, E'public.items') FROM changed"#)
        #expect(statements[2].parameters == ["2", "changed", "ok", "2"])
        // The key changed: the row is found by the old key.
        #expect(statements[3].sql.contains(#"WHERE "id" OPERATOR(pg_catalog.=) $5::integer RETURNING 1"#))
        #expect(statements[3].parameters.first == "3" && statements[3].parameters.last == "1")
    }

    @Test func replicaIdentityFullTouchesExactlyOneRow() throws {
        let update = try CapturedChanges.statements()[6]
        #expect(update.sql.contains(#"WHERE (tableoid, ctid) = (SELECT tableoid, ctid FROM ONLY "public"."full_rows" WHERE ($3::text IS NULL OR "a" OPERATOR(pg_catalog.=) $3::text::integer) AND (num_nulls("a") = 1 AND $3::text IS NULL OR num_nulls("a") = 0 AND format('%s', "a") COLLATE "C" = $3::text) AND "#))
        #expect(update.parameters == ["1", "b", "1", "a"])
    }

    @Test func deletesAndTruncate() throws {
        let statements = try CapturedChanges.statements()
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
        let check = try ChangeSQL.update(update, of: relation, shape: CapturedChanges.shape(relation))
        #expect(check.sql.hasPrefix(#"SELECT continuity.expect_rows(count(*), 1, E'public.t') FROM ONLY "public"."t" WHERE (tableoid, ctid) = "#))
    }

    @Test func refusesWhatCannotBeApplied() throws {
        let relation = Relation(oid: 1, namespace: "public", name: "t", replicaIdentity: UInt8(ascii: "n"),
                                columns: [.init(isKey: false, name: "a", typeOID: 23, typeModifier: -1)])
        #expect(throws: UnappliableChange.self) {
            try ChangeSQL.delete(Delete(relation: 1, oldKey: nil, old: nil), from: relation, shape: CapturedChanges.shape(relation))
        }
        #expect(throws: UnappliableChange.self) {
            try ChangeSQL.insert(Insert(relation: 1, new: TupleData(values: [.null, .null])), into: relation)
        }
        #expect(throws: UnappliableChange.self) {
            try ChangeSQL.insert(Insert(relation: 1, new: TupleData(values: [.unchangedToast])), into: relation)
        }
    }
}
