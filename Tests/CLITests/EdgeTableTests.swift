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
