@testable import Applier
import ApplierFixtures
@testable import PgOutput
import PostgresClient
import TestSupport
import Testing

/// The SQL for the captured workload (see PgOutputTests/FixtureTests.swift for its statements).
@Suite struct ChangeSQLTests {
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
        let shape = TableShape(castTypes: ["bigint", "text", "integer"], equality: [CapturedChanges.equals, CapturedChanges.equals, CapturedChanges.equals], alwaysIdentity: ["id"])
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
                for statement in try CapturedChanges.statements().dropLast() {  // all but the TRUNCATE
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
