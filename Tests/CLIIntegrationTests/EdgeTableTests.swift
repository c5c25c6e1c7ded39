import Foundation
import PostgresClient
import Testing
import TestSupport

/// Tables at the edges of what COPY expresses.
@Suite struct EdgeTableTests {
    static func rows(_ dsn: ConnectionString, _ table: String) async throws -> Int64 {
        try await withConnection(dsn) { try await $0.query("SELECT count(*) FROM \(table)").scalar(Int64.self) }
    }

    /// `CREATE TABLE t ()` with rows: the old restore sent `COPY t () FROM STDIN`, a syntax error.
    @Test func aTableWithNoColumnsRoundTripsThroughSnapshotAndRestore() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) {
                try await $0.execute("CREATE TABLE nothing (); INSERT INTO nothing SELECT FROM generate_series(1, 3)")
            }
            try await withDirectory { store in
                let snapshot = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)", "--stack", "e"])
                #expect(snapshot.status == 0, "\(snapshot.stderr)")
                try await withTestDatabase(on: TestBed.passive) { target in
                    let restore = try await CommandLineRun.run(["restore", "--target", target.conninfo, "--store", "file://\(store)", "--stack", "e"])
                    #expect(restore.status == 0, "\(restore.stderr)")
                    #expect(try await Self.rows(target, "nothing") == 3)
                }
            }
        }
    }

    @Test func aTableWithNoColumnsIsCopiedByInitCopy() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) {
                    try await $0.execute("CREATE TABLE nothing (); ALTER TABLE nothing REPLICA IDENTITY FULL; INSERT INTO nothing SELECT FROM generate_series(1, 4)")
                }
                let slot = uniqueName("edge")
                let run = try await CommandLineRun.run(["stream", "--source", source.conninfo, "--target", target.conninfo, "--slot", slot,
                                                        "--publication", "p", "--init", "copy", "--until", "caught-up"])
                #expect(run.status == 0, "\(run.stderr)")
                #expect(try await Self.rows(target, "nothing") == 4)
                try? await withConnection(TestBed.active) { _ = try await $0.execute("SELECT pg_drop_replication_slot($1)", [slot]) }
            }
        }
    }
}

/// A tiny extension with a configuration table: no package that PostgreSQL 15's contrib ships
/// registers one, so the test installs its own into the server's extension directory.
enum ConfigTableExtension {
    static let name = "continuity_test_config"

    static func install() async throws {
        let directory = try await withConnection(TestBed.active) {
            try await $0.query("SELECT setting || '/extension' FROM pg_config WHERE name = 'SHAREDIR'").scalar(String.self)
        }
        let control = """
            comment = 'continuity tests: an extension with a configuration table'
            default_version = '1.0'
            relocatable = true
            """
        let script = """
            CREATE TABLE continuity_test_settings (name text PRIMARY KEY, value text, standard boolean NOT NULL DEFAULT false);
            INSERT INTO continuity_test_settings VALUES ('shipped', 'by the extension', true);
            SELECT pg_catalog.pg_extension_config_dump('continuity_test_settings', 'WHERE NOT standard');
            """
        for (file, text) in [("\(name).control", control), ("\(name)--1.0.sql", script)] {
            let path = "\(directory)/\(file)"
            if (try? String(contentsOfFile: path, encoding: .utf8)) == text + "\n" { continue }
            do {
                try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
            } catch {
                Issue.record("cannot install the test extension into \(directory) (\(error)); run the tests as the user who owns it")
                throw error
            }
        }
    }
}

extension EdgeTableTests {
    static func settings(_ dsn: ConnectionString) async throws -> String {
        try await withConnection(dsn) {
            try await $0.query("SELECT string_agg(format('%s=%s/%s', name, value, standard), ',' ORDER BY name) FROM continuity_test_settings").scalar(String.self)
        }
    }

    /// pg_dump carries the rows a user added to an extension's configuration table (those its
    /// filter selects); the old snapshot skipped the table as extension-owned, and restore
    /// gave back only the extension's own row.
    @Test func anExtensionsConfigurationRowsAreCarried() async throws {
        try await ConfigTableExtension.install()
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) {
                try await $0.execute("""
                    CREATE EXTENSION \(ConfigTableExtension.name);
                    INSERT INTO continuity_test_settings VALUES ('mine', 'set by a user', false), ('yours', 'too', false);
                    """)
            }
            let expected = "mine=set by a user/f,shipped=by the extension/t,yours=too/f"
            #expect(try await Self.settings(source) == expected)
            try await withDirectory { store in
                let snapshot = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)", "--stack", "x"])
                #expect(snapshot.status == 0, "\(snapshot.stderr)")
                try await withTestDatabase(on: TestBed.passive) { target in
                    let restore = try await CommandLineRun.run(["restore", "--target", target.conninfo, "--store", "file://\(store)", "--stack", "x"])
                    #expect(restore.status == 0, "\(restore.stderr)")
                    #expect(try await Self.settings(target) == expected)
                }
            }
            try await withTestDatabase(on: TestBed.passive) { target in
                let slot = uniqueName("extcfg")
                let run = try await CommandLineRun.run(["stream", "--source", source.conninfo, "--target", target.conninfo, "--slot", slot,
                                                        "--publication", "p", "--init", "copy", "--until", "caught-up"])
                #expect(run.status == 0, "\(run.stderr)")
                #expect(try await Self.settings(target) == expected)
                try? await withConnection(TestBed.active) { _ = try await $0.execute("SELECT pg_drop_replication_slot($1)", [slot]) }
            }
        }
    }
}
