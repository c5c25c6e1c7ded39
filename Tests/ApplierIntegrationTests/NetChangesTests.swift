@testable import Applier
import ApplierFixtures
@testable import PgOutput
import PostgresClient
import TestSupport
import Testing

/// Folding per key, and the set-based statements, checked against sequential application on
/// a real server.
@Suite struct NetChangesTests {
    /// The statements on a real server leave what the changes one by one leave.
    @Test func setBasedStatementsMatchSequentialOnes() async throws {
        try await withTestDatabase(on: TestBed.passive) { dsn in
            try await withConnection(dsn) { sql in
                try await sql.execute("""
                    CREATE TABLE t (id int PRIMARY KEY, big text, n int);
                    INSERT INTO t VALUES (3, repeat('x', 5000), 0), (4, 'old', 0), (5, E'tab\\there "quoted" \\\\ back', 0);
                    """)
                try await StreamProgress.createTable(on: sql)
                var changes = NetChanges(relation: NetChangesFixture.relation, shape: NetChangesFixture.shape)
                for change in [NetChangesFixture.insert(1, "a,{b}\"", 1), NetChangesFixture.insert(2, "b", 1)] { _ = try changes.add(change) }
                for change in [NetChangesFixture.update(1, n: 2), NetChangesFixture.update(3, n: 5), NetChangesFixture.update(3, n: 6), NetChangesFixture.update(5, n: 9)] { _ = try changes.add(change) }
                for change in [NetChangesFixture.delete(2), NetChangesFixture.delete(4)] { _ = try changes.add(change) }
                _ = try changes.add(NetChangesFixture.insert(4, "new", 4))
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
                var missingDelete = NetChanges(relation: NetChangesFixture.relation, shape: NetChangesFixture.shape)
                var missingUpdate = missingDelete
                _ = try missingDelete.add(NetChangesFixture.delete(2))
                _ = try missingUpdate.add(NetChangesFixture.update(3, n: 1))
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
}
