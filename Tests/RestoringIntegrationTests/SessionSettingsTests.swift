import Foundation
import Logging
import OperatorErrors
import PostgresClient
import Restoring
import SnapshotStore
import Snapshotting
import Testing
import TestSupport

/// Values travel in a fixed text form whatever the server, database or role sets (issue 9,
/// defects 1 and 11): snapshot and restore carry them exactly, or refuse.
@Suite struct SessionSettingsTests {
    static let logger = Logger(label: "test")

    static func snapshot(_ source: ConnectionString, into store: any SnapshotStore, stack: String = "s") async throws {
        _ = try await SnapshotRunner.take(SnapshotOptions(source: source, store: store, stack: stack, jobs: 2, codec: .none, toolVersion: "test"),
                                          logger: logger)
    }

    static func restore(_ target: ConnectionString, from store: any SnapshotStore, stack: String = "s") async throws {
        try await RestoreRunner.restore(RestoreOptions(target: target, store: store, stack: stack, snapshot: "latest",
                                                       jobs: 2, clean: false, toolVersion: "test"), logger: logger)
    }

    /// A source with DMY dates in SQL style, rounded floats and escaped bytea, restored into a
    /// passive with other odd settings: the values arrive unchanged.
    @Test func oddDatabaseSettingsChangeNoValue() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await OddSettings.apply(OddSettings.source, to: source)
            try await withConnection(source) { sql in
                try await sql.execute(OddSettings.schema)
                try await OddSettings.insert(1...30, on: sql)
            }
            try await withStore { store in
                try await Self.snapshot(source, into: store)
                try await withTestDatabase(on: TestBed.passive) { target in
                    try await OddSettings.apply(OddSettings.target, to: target)
                    try await Self.restore(target, from: store)
                    let expected = try await DatabaseDigest.of(source)
                    #expect(try await DatabaseDigest.of(target) == expected)
                    let first = try await withConnection(target) { sql in
                        try await sql.execute(DatabaseDigest.sessionSettings)
                        return try await sql.query("SELECT d::text, f8::text, a::text FROM public.typed WHERE id = 1").rows[0]
                    }
                    #expect(first["d"] == "2024-03-05")
                    #expect(first["f8"] == "0.30000000000000004")
                    #expect(first["a"] == #"{x1,NULL,"NULL","with space","q\"uote"}"#)
                }
            }
        }
    }

    /// A LATIN1 database's text, table names and comments arrive in a UTF8 one unchanged.
    @Test func aLatin1DatabaseArrivesAsTheSameText() async throws {
        try await withTestDatabase(on: TestBed.active, creating: "ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0") { source in
            try await withConnection(source) { sql in
                try await sql.execute("SET client_encoding = 'UTF8'")
                try await sql.execute("""
                    CREATE TABLE "café" (id int PRIMARY KEY, name text DEFAULT 'Größe');
                    COMMENT ON TABLE "café" IS 'Ångström ½';
                    INSERT INTO "café" SELECT i, 'Größe ½ ÿ é ' || i FROM generate_series(1, 50) i;
                    """)
            }
            try await withStore { store in
                try await Self.snapshot(source, into: store)
                try await withTestDatabase(on: TestBed.passive) { target in
                    try await Self.restore(target, from: store)
                    let expected = try await DatabaseDigest.of(source)
                    #expect(try await DatabaseDigest.of(target) == expected)
                    let restored = try await withConnection(target) { sql in
                        try await sql.execute("SET client_encoding = 'UTF8'")
                        return try await sql.query("""
                            SELECT name, obj_description('"café"'::regclass, 'pg_class') AS comment,
                                   pg_get_expr(adbin, adrelid) AS fallback
                            FROM "café", pg_attrdef WHERE id = 7 AND adrelid = '"café"'::regclass
                            """).rows[0]
                    }
                    #expect(restored["name"] == "Größe ½ ÿ é 7")
                    #expect(restored["comment"] == "Ångström ½")
                    #expect(restored["fallback"] == "'Größe'::text")
                }
            }
        }
    }

    /// SQL_ASCII stores bytes unchecked, in no known encoding: nothing can convert them, so a
    /// snapshot refuses rather than guess.
    @Test func anSQLASCIIDatabaseIsRefused() async throws {
        try await withTestDatabase(on: TestBed.active, creating: "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0") { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (v text); INSERT INTO t VALUES ('abc')") }
            try await withStore { store in
                let refused = await #expect(throws: (any Error).self) { try await Self.snapshot(source, into: store) }
                let error = refused as? any OperatorError
                #expect(error?.status == .refused)
                #expect(error?.problem.contains("SQL_ASCII") == true, "\(String(describing: refused))")
                let left = try store.list(prefix: "")
                #expect(left.isEmpty)
            }
        }
    }

    /// A role its policies filter cannot take a snapshot: the copy fails, naming the table,
    /// instead of carrying only the rows the role may see.
    @Test func rowLevelSecurityFailsTheSnapshotInsteadOfFilteringIt() async throws {
        let role = uniqueName("reader")
        try await withConnection(TestBed.active) { try await $0.execute("CREATE ROLE \(role) LOGIN PASSWORD 'reader-pw'") }
        do {
            try await withTestDatabase(on: TestBed.active) { source in
                try await withConnection(source) { sql in
                    try await sql.execute("""
                        CREATE TABLE secrets (id int PRIMARY KEY, v text);
                        INSERT INTO secrets SELECT i, 'v' || i FROM generate_series(1, 100) i;
                        ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
                        CREATE POLICY half ON secrets FOR SELECT USING (id % 2 = 0);
                        GRANT SELECT ON secrets TO \(role);
                        """)
                }
                let asReader = source.setting("user", to: role).setting("password", to: "reader-pw")
                try await withStore { store in
                    let refused = await #expect(throws: (any Error).self) { try await Self.snapshot(asReader, into: store) }
                    let error = refused as? any OperatorError
                    #expect(error?.status == .refused, "\(String(describing: refused))")
                    #expect(error?.problem.contains("public.secrets") == true, "\(String(describing: refused))")
                    #expect(error?.fix?.contains("BYPASSRLS") == true)
                }
            }
        } catch {
            _ = try? await withConnection(TestBed.active) { try await $0.execute("DROP ROLE IF EXISTS \(role)") }
            throw error
        }
        try await withConnection(TestBed.active) { try await $0.execute("DROP ROLE IF EXISTS \(role)") }
    }
}
