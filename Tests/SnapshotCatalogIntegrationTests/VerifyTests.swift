import Foundation
import Logging
import SnapshotCatalog
import SnapshotFormat
import SnapshotStore
import Snapshotting
import Testing
import TestSupport

@Suite struct VerifyTests {
    /// Takes a real snapshot, damages it with `damage`, and returns what verify says.
    func verify(after damage: (FileStore, Manifest) throws -> Void) async throws -> [SnapshotVerifier.Problem]? {
        var problems: [SnapshotVerifier.Problem]?
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) {
                try await $0.execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 5000) i")
            }
            try await withStore { store in
                let manifest = try await SnapshotRunner.take(SnapshotOptions(source: source, store: store, stack: "v", jobs: 1,
                                                                             codec: .gzip(level: 1), toolVersion: "test"),
                                                             logger: Logger(label: "test"))
                let catalog = SnapshotCatalog(store: store)
                #expect(SnapshotVerifier.verify(manifest, in: store).isEmpty)
                try damage(store as! FileStore, manifest)
                guard let id = try catalog.ids(stack: "v").first else { return }  // the manifest itself is gone
                problems = SnapshotVerifier.verify(try catalog.manifest(id, stack: "v"), in: store)
            }
        }
        return problems
    }

    func rewrite(_ store: FileStore, _ path: String, _ change: (inout [UInt8]) -> Void) throws {
        let url = URL(fileURLWithPath: "\(store.root)/\(path)")
        var bytes = Array(try Data(contentsOf: url))
        change(&bytes)
        try Data(bytes).write(to: url)
    }

    @Test func aFlippedByteIsNamed() async throws {
        var part = ""
        let problems = try await verify { store, manifest in
            part = manifest.tables[0].parts[0].path
            try rewrite(store, part) { $0[$0.count / 2] ^= 0x20 }
        }
        #expect(problems?.map(\.path) == [part])
    }

    @Test func aTruncatedPartIsNamed() async throws {
        let problems = try await verify { store, manifest in
            try rewrite(store, manifest.tables[0].parts[0].path) { $0.removeLast(10) }
        }
        #expect(problems?.count == 1)
    }

    @Test func aMissingPartIsNamed() async throws {
        let problems = try await verify { store, manifest in
            try store.delete(manifest.tables[0].parts[0].path)
        }
        #expect(problems?.first?.reason == "missing")
    }

    @Test func aDamagedSchemaFileIsNamed() async throws {
        let problems = try await verify { store, manifest in
            try rewrite(store, manifest.schema.postData.path) { $0.append(0x0A) }
        }
        #expect(problems?.first?.path.hasSuffix("schema/post-data.sql") == true)
    }

    @Test func aMissingManifestMakesTheSnapshotInvisible() async throws {
        let problems = try await verify { store, manifest in
            try store.delete(SnapshotLayout(stack: "v", id: manifest.id).manifest)
        }
        #expect(problems == nil)
    }
}
