import Foundation
import PostgresClient
import Testing
import TestSupport

/// Large objects travel in the snapshot: the old snapshot left them out with exit 0, and the
/// restored table's `oid` column pointed at nothing.
@Suite struct LargeObjectTests {
    /// Every large object with what restore must give back: oid, size, content digest, owner, ACL, comment.
    static func largeObjects(_ dsn: ConnectionString) async throws -> [String] {
        try await withConnection(dsn) { connection in
            try await connection.query("""
                SELECT format('%s %s %s %s %s %s', oid, length(lo_get(oid)), md5(lo_get(oid)), pg_get_userbyid(lomowner),
                              coalesce(lomacl::text, '-'), coalesce(obj_description(oid, 'pg_largeobject'), '-')) AS line
                FROM pg_largeobject_metadata ORDER BY oid
                """).rows.map { try $0.decode("line") }
        }
    }

    /// Roles exist per cluster: the owner and the grantee are made on the active and the passive.
    static func withRoles(_ names: [String], _ body: () async throws -> Void) async throws {
        for server in [try TestBed.active, try TestBed.passive] {
            try await withConnection(server) { connection in
                for name in names { try await connection.execute("CREATE ROLE \(name)") }
            }
        }
        var failure: (any Error)?
        do { try await body() } catch { failure = error }
        for server in [try TestBed.active, try TestBed.passive] {
            try await withConnection(server) { connection in
                for name in names { try await connection.execute("DROP ROLE IF EXISTS \(name)") }
            }
        }
        if let failure { throw failure }
    }

    @Test func largeObjectsComeBackWithTheirOidsContentsOwnersAndACLs() async throws {
        let owner = uniqueName("lo_owner"), reader = uniqueName("lo_reader")
        try await Self.withRoles([owner, reader]) {
            try await withTestDatabase(on: TestBed.active) { source in
                try await withConnection(source) {
                    try await $0.execute("""
                        CREATE TABLE documents (id int PRIMARY KEY, body oid);
                        INSERT INTO documents VALUES
                            (1, lo_from_bytea(424242, ''::bytea)),
                            (2, lo_from_bytea(424243, (SELECT string_agg(sha256(i::text::bytea), '') FROM generate_series(1, 90000) i))),
                            (3, lo_from_bytea(424244, 'hello'::bytea));
                        ALTER LARGE OBJECT 424244 OWNER TO \(owner);
                        GRANT SELECT ON LARGE OBJECT 424244 TO \(reader);
                        COMMENT ON LARGE OBJECT 424244 IS 'a note, with ''quotes''';
                        """)
                }
                let before = try await Self.largeObjects(source)
                #expect(before.count == 3)
                #expect(before[1].split(separator: " ")[1] == "2880000")  // three chunks of 1 MiB, the last short
                try await withDirectory { store in
                    let snapshot = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)", "--stack", "lo"])
                    #expect(snapshot.status == 0, "\(snapshot.stderr)")
                    let verify = try await CommandLineRun.run(["snapshots", "verify", "--store", "file://\(store)", "--stack", "lo"])
                    #expect(verify.status == 0, "\(verify.stdout)")
                    let show = try await CommandLineRun.run(["snapshots", "show", "--store", "file://\(store)", "--stack", "lo"])
                    #expect(show.stdout.contains("large objects 3, "), "\(show.stdout)")
                    try await withTestDatabase(on: TestBed.passive) { target in
                        let restore = try await CommandLineRun.run(["restore", "--target", target.conninfo, "--store", "file://\(store)", "--stack", "lo"])
                        #expect(restore.status == 0, "\(restore.stderr)")
                        #expect(try await Self.largeObjects(target) == before)
                        let readable = try await withConnection(target) {
                            try await $0.query("SELECT convert_from(lo_get(body), 'UTF8') FROM documents WHERE id = 3").scalar(String.self)
                        }
                        #expect(readable == "hello")
                        // Large objects live outside every schema: --clean removes them too, so a re-run works.
                        let again = try await CommandLineRun.run(["restore", "--clean", "--target", target.conninfo, "--store", "file://\(store)", "--stack", "lo"])
                        #expect(again.status == 0, "\(again.stderr)")
                        #expect(try await Self.largeObjects(target) == before)
                    }
                    // A damaged large-object part is named, like any other.
                    let data = try #require(FileManager.default.subpathsOfDirectory(atPath: store).first { $0.contains("large-objects.data") })
                    var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "\(store)/\(data)")))
                    bytes[bytes.count / 2] ^= 0x01
                    try Data(bytes).write(to: URL(fileURLWithPath: "\(store)/\(data)"))
                    let damaged = try await CommandLineRun.run(["snapshots", "verify", "--store", "file://\(store)", "--stack", "lo"])
                    #expect(damaged.status == 1)
                    #expect(damaged.stdout.contains("large-objects.data"))
                }
            }
        }
    }

    @Test func aTargetHoldingLargeObjectsIsNotEmpty() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int)") }
            try await withDirectory { store in
                let snapshot = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)", "--stack", "lo"])
                #expect(snapshot.status == 0)
                try await withTestDatabase(on: TestBed.passive) { target in
                    try await withConnection(target) { try await $0.execute("SELECT lo_from_bytea(0, 'x')") }
                    let restore = try await CommandLineRun.run(["restore", "--target", target.conninfo, "--store", "file://\(store)", "--stack", "lo"])
                    #expect(restore.status == 3)
                    #expect(restore.stderr.contains("1 large objects"))
                }
            }
        }
    }
}
