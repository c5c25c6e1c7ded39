import Foundation
import PostgresClient
import Testing
import TestSupport

@Suite struct SnapshotCommandTests {
    @Test func snapshotRestoreAndTheCatalogueFromTheCommandLine() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) {
                try await $0.execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 1000) i")
            }
            try await withDirectory { store in
                let snapshot = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)",
                                                       "--stack", "cli", "--jobs", "2"])
                #expect(snapshot.status == 0, "\(snapshot.stderr)")
                let id = String(snapshot.stdout.split(separator: "\n").first ?? "")
                #expect(id.wholeMatch(of: #/\d{8}T\d{6}Z-[0-9a-f]{4}/#) != nil)

                let list = try await CommandLineRun.run(["snapshots", "list", "--store", "file://\(store)", "--stack", "cli"])
                #expect(list.status == 0)
                #expect(list.stdout.contains(id))
                let verify = try await CommandLineRun.run(["snapshots", "verify", "--json", "--store", "file://\(store)", "--stack", "cli"])
                #expect(verify.status == 0)
                struct Result: Decodable { let id: String; let problems: [[String: String]] }
                let results = try JSONDecoder().decode([Result].self, from: Data(verify.stdout.utf8))
                #expect(results.map(\.id) == [id])
                #expect(results[0].problems.isEmpty)
            }
        }
    }

    @Test func restoreRefusesANonEmptyTargetWithExitThree() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int PRIMARY KEY)") }
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(target) { try await $0.execute("CREATE TABLE existing (id int)") }
                try await withDirectory { store in
                    let snapshot = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)", "--stack", "x"])
                    #expect(snapshot.status == 0)
                    let restore = try await CommandLineRun.run(["restore", "--target", target.conninfo, "--store", "file://\(store)", "--stack", "x"])
                    #expect(restore.status == 3)
                    #expect(restore.stderr.contains("is not empty"))
                }
            }
        }
    }

    @Test func badStoreInputIsExitTwoAndAnEmptyStoreIsClear() async throws {
        try await withDirectory { store in
            let unknownScheme = try await CommandLineRun.run(["snapshots", "list", "--store", "ftp://x", "--stack", "s"])
            #expect(unknownScheme.status == 2)
            let badStack = try await CommandLineRun.run(["snapshots", "list", "--store", "file://\(store)", "--stack", "../etc"])
            #expect(badStack.status == 2)
            let unknownId = try await CommandLineRun.run(["snapshots", "show", "--store", "file://\(store)", "--stack", "s", "20260101T000000Z-0000"])
            #expect(unknownId.status == 2)
            #expect(unknownId.stderr.contains("no snapshot 20260101T000000Z-0000 of stack s"))
            let empty = try await CommandLineRun.run(["restore", "--target", TestBed.passive.conninfo, "--store", "file://\(store)", "--stack", "s"])
            #expect(empty.status == 2)
            #expect(empty.stderr.contains("no snapshot of stack s in file://"))
            let missingDirectory = try await CommandLineRun.run(["snapshots", "list", "--store", "file:///no/such/store", "--stack", "s"])
            #expect(missingDirectory.status == 1)
            #expect(missingDirectory.stderr.contains("does not exist"))
        }
    }

    /// --pgbouncer-admin was read with a `pgbouncer-admin-password` setting that does not
    /// exist, which stopped the process on a precondition instead of fencing.
    @Test func pgbouncerFenceFromTheCommandLine() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int PRIMARY KEY)") }
            let database = source["dbname"] ?? ""
            let admin = try TestBed.pgbouncerAdmin
            // A live pool, as FenceTests explains: PgBouncer cannot release a paused, never-used database.
            _ = try await withConnection(try TestBed.pgbouncer.database(database), fixingSettings: false) { try await $0.query("SELECT 1").scalar(Int.self) }
            try await withDirectory { store in
                let snapshot = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)", "--stack", "pgb",
                                                             "--fence", "pgbouncer", "--pgbouncer-admin", admin.conninfo])
                _ = try? await withConnection(admin, fixingSettings: false) { try await $0.execute("RESUME \"\(database)\"") }
                #expect(snapshot.status == 0, "\(snapshot.stderr)")
                #expect(snapshot.stdout.contains("the source was left fenced (pgbouncer)"))
            }
        }
    }
}

func withDirectory(_ body: (String) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-cli-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try await body(directory)
}

@Suite struct S3CommandTests {
    static func storeURL() throws -> String {
        "s3://\(try TestBed.setting("CONTINUITY_TEST_S3_BUCKET"))/\(uniqueName("cli"))?endpoint=\(try TestBed.setting("CONTINUITY_TEST_S3_ENDPOINT"))&region=us-east-1&path-style=true"
    }

    static func credentials(secret: String? = nil) throws -> [String: String] {
        ["AWS_ACCESS_KEY_ID": try TestBed.setting("CONTINUITY_TEST_S3_ACCESS_KEY_ID"),
         "AWS_SECRET_ACCESS_KEY": try secret ?? TestBed.setting("CONTINUITY_TEST_S3_SECRET_ACCESS_KEY")]
    }

    @Test func snapshotVerifyAndRestoreThroughS3() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) {
                try await $0.execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 20000) i")
            }
            let store = try Self.storeURL()
            let snapshot = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", store, "--stack", "s3"],
                                                  environment: Self.credentials())
            #expect(snapshot.status == 0, "\(snapshot.stderr)")
            let verify = try await CommandLineRun.run(["snapshots", "verify", "--store", store, "--stack", "s3"], environment: Self.credentials())
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            try await withTestDatabase(on: TestBed.passive) { target in
                let restore = try await CommandLineRun.run(["restore", "--target", target.conninfo, "--store", store, "--stack", "s3"],
                                                     environment: Self.credentials())
                #expect(restore.status == 0, "\(restore.stderr)")
                let digests = try await [source, target].asyncMap { dsn in
                    try await withConnection(dsn) { try await $0.query("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM t").scalar(String.self) }
                }
                #expect(digests[0] == digests[1])
            }
        }
    }

    @Test func wrongCredentialsAreBadInputInOneClearLine() async throws {
        let run = try await CommandLineRun.run(["snapshots", "list", "--store", Self.storeURL(), "--stack", "s3"],
                                         environment: Self.credentials(secret: "not-the-secret"))
        #expect(run.status == 2)
        #expect(run.stderr.contains("SignatureDoesNotMatch"))
        #expect(!run.stderr.contains("not-the-secret"))
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
