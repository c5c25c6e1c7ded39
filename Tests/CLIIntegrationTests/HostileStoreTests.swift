import Foundation
import PostgresClient
import Testing
import TestSupport

/// Stores continuity does not control: a manifest edited by hand or by an attacker, a stack
/// named like a leftover. Each is refused with its object named, and nothing is changed.
@Suite struct HostileStoreTests {
    /// A real snapshot of a small table in a file store; returns its manifest's path.
    func snapshot(_ source: ConnectionString, into store: String, stack: String) async throws -> String {
        try await withConnection(source) {
            try await $0.execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 100) i")
        }
        let run = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)", "--stack", stack])
        #expect(run.status == 0, "\(run.stderr)")
        return "\(store)/\(stack)/\(run.stdout.split(separator: "\n").first ?? "")/manifest.json"
    }

    func editManifest(_ path: String, _ change: (inout [String: Any]) -> Void) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        change(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    func editTable(_ object: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
        var tables = object["tables"] as! [[String: Any]]
        change(&tables[0])
        object["tables"] = tables
    }

    func tableCount(_ target: ConnectionString) async throws -> Int64 {
        try await withConnection(target) {
            try await $0.query("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace").scalar(Int64.self)
        }
    }

    /// The part path climbs out of the snapshot to a file that hashes right: the old code
    /// loaded it. Restore and verify now refuse the manifest, naming the object.
    @Test func aPartPathOutsideTheSnapshotIsRefusedBeforeAnythingChanges() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withDirectory { store in
                let manifest = try await snapshot(source, into: store, stack: "h")
                var outside = ""
                try editManifest(manifest) { object in
                    editTable(&object) { table in
                        var parts = table["parts"] as! [[String: Any]]
                        let original = parts[0]["path"] as! String
                        outside = "outside.copy.gz"
                        try? FileManager.default.copyItem(atPath: "\(store)/\(original)", toPath: "\(store)/\(outside)")
                        parts[0]["path"] = (original as NSString).deletingLastPathComponent + "/../../../" + outside
                        table["parts"] = parts
                    }
                }
                #expect(FileManager.default.fileExists(atPath: "\(store)/\(outside)"))
                try await withTestDatabase(on: TestBed.passive) { target in
                    let restore = try await CommandLineRun.run(["restore", "--target", target.conninfo, "--store", "file://\(store)", "--stack", "h"])
                    #expect(restore.status == 1, "\(restore.stderr)")
                    #expect(restore.stderr.contains("../../../outside.copy.gz"))
                    #expect(restore.stderr.contains("outside the snapshot's directory"))
                    #expect(try await tableCount(target) == 0)
                }
                let verify = try await CommandLineRun.run(["snapshots", "verify", "--store", "file://\(store)", "--stack", "h"])
                #expect(verify.status == 1)
                #expect(verify.stderr.contains("outside the snapshot's directory"))
            }
        }
    }

    @Test func aColumnThatIsNotAnIdentifierNeverReachesSQL() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withDirectory { store in
                let manifest = try await snapshot(source, into: store, stack: "c")
                try editManifest(manifest) { object in
                    editTable(&object) { $0["columns"] = ["id, v) FROM STDIN; DROP TABLE t; --"] }
                }
                try await withTestDatabase(on: TestBed.passive) { target in
                    let restore = try await CommandLineRun.run(["restore", "--target", target.conninfo, "--store", "file://\(store)", "--stack", "c"])
                    #expect(restore.status == 1, "\(restore.stderr)")
                    #expect(restore.stderr.contains("not an identifier"))
                    #expect(try await tableCount(target) == 0)
                }
            }
        }
    }

    /// A stack named with FileStore's leftover marker: every object under it looked like a
    /// leftover, so `prune --keep 5` deleted a complete day-old snapshot. Now such a name is
    /// bad input (exit 2) for every command, and nothing is deleted.
    @Test(arguments: ["a.partial-b", "a.upload-b"])
    func aStackNamedWithALeftoverMarkerIsRefused(_ stack: String) async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withDirectory { store in
                let manifest = try await snapshot(source, into: store, stack: "plain")
                // The same complete snapshot, two days old, under the hostile stack name.
                let old = "20200101T000000Z-0001"
                try FileManager.default.createDirectory(atPath: "\(store)/\(stack)", withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: (manifest as NSString).deletingLastPathComponent, toPath: "\(store)/\(stack)/\(old)")
                let prune = try await CommandLineRun.run(["snapshots", "prune", "--store", "file://\(store)", "--stack", stack, "--keep", "5"])
                #expect(prune.status == 2, "\(prune.stdout)\(prune.stderr)")
                #expect(prune.stderr.contains("reserve"))
                #expect(FileManager.default.fileExists(atPath: "\(store)/\(stack)/\(old)/manifest.json"))
                let snapshot = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)", "--stack", stack])
                #expect(snapshot.status == 2)
            }
        }
    }
}
