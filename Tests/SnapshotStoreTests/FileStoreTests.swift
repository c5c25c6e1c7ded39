import Foundation
import SnapshotStore
import StoreContract
import Testing

@Suite struct FileStoreTests {
    @Test(arguments: StoreContract.all.map(\.0))
    func meetsTheStoreContract(_ name: String) throws {
        try withTemporaryDirectory { directory in
            try StoreContract.all.first { $0.0 == name }!.1(try FileStore(root: directory))
        }
    }

    @Test func aLeftoverFromACrashIsFlagged() throws {
        try withTemporaryDirectory { directory in
            let store = try FileStore(root: directory)
            let writer = try store.makeWriter("s/1/data/1.0.copy.gz")
            try [UInt8](repeating: 1, count: 5).withUnsafeBytes { try writer.write($0) }
            // No commit and no abort: what a kill -9 leaves behind.
            let objects = try store.list(prefix: "s/")
            #expect(objects.count == 1 && objects[0].isLeftover && objects[0].key.hasPrefix("s/1/data/1.0.copy.gz.partial-"))
            withExtendedLifetime(writer) {}
        }
    }

    @Test func opensFromAURLAndRefusesBadOnes() throws {
        try withTemporaryDirectory { directory in
            let store = try StoreURL.open("file://\(directory)")
            #expect(store.location == "file://\(directory)")
        }
        #expect(throws: StoreError.self) { try StoreURL.open("file:///no/such/dir/anywhere") }
        let scheme = #expect(throws: StoreError.self) { try StoreURL.open("ftp://x/y") }
        #expect(scheme?.status == .badInput)
        #expect(throws: StoreError.self) { try StoreURL.open("file://host/path") }
    }
}

func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-store-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try body(directory)
}
