import Foundation
import SnapshotStore
import StoreKeys
import Testing

/// The contract every store driver meets. Each driver's suite runs these against a real backend:
/// the file driver's in SnapshotStoreTests, the S3 driver's in SnapshotStoreIntegrationTests.
public enum StoreContract {
    static func writesAreInvisibleUntilCommitted(_ store: any SnapshotStore) throws {
        let writer = try store.makeWriter("s/1/data/1.0.copy.gz")
        try [UInt8](repeating: 7, count: 1000).withUnsafeBytes { try writer.write($0) }
        #expect(try store.list(prefix: "s/1/").allSatisfy { $0.isLeftover })
        #expect(throws: StoreError.self) { try store.makeReader("s/1/data/1.0.copy.gz") }
        try writer.commit()
        let objects = try store.list(prefix: "s/1/")
        #expect(objects == [StoredObject(key: "s/1/data/1.0.copy.gz", size: 1000, isLeftover: false)])
    }

    static func readsBackInChunks(_ store: any SnapshotStore) throws {
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try store.put("s/2/big", bytes)
        let reader = try store.makeReader("s/2/big")
        var back: [UInt8] = []
        var calls = 0
        while try reader.read(into: &back, limit: 65536) { calls += 1 }
        #expect(back == bytes)
        #expect(calls >= 5)
    }

    static func abortLeavesNothing(_ store: any SnapshotStore) throws {
        let writer = try store.makeWriter("s/3/x")
        try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try writer.write($0) }
        writer.abort()
        #expect(try store.list(prefix: "s/3/").isEmpty)
    }

    static func listsByPrefixAndDeletes(_ store: any SnapshotStore) throws {
        try store.put("a/1/manifest.json", [1])
        try store.put("a/2/manifest.json", [2, 2])
        try store.put("b/1/manifest.json", [3])
        #expect(try store.list(prefix: "a/").map(\.key) == ["a/1/manifest.json", "a/2/manifest.json"])
        try store.delete("a/1/manifest.json")
        #expect(try store.list(prefix: "a/").map(\.key) == ["a/2/manifest.json"])
        #expect(try store.get("a/2/manifest.json") == [2, 2])
        try store.delete("a/1/manifest.json")  // deleting what is gone is fine
    }

    static func aMissingObjectIsNotFound(_ store: any SnapshotStore) throws {
        let error = #expect(throws: StoreError.self) { try store.get("nope/manifest.json") }
        #expect(error?.kind == .notFound)
    }

    /// Leftovers are recognised by a marker in their key; an object written under a key that
    /// holds one would be taken for a leftover (pruned, or its delete sent elsewhere).
    static func keysHoldingALeftoverMarkerAreRefused(_ store: any SnapshotStore) throws {
        for marker in ReservedMarkers.all {
            let error = #expect(throws: StoreError.self) { try store.put("s\(marker)x/1/manifest.json", [1]) }
            #expect(error?.status == .badInput)
            #expect(throws: StoreError.self) { try store.makeWriter("s/1/data/1.0.copy\(marker)abc") }
        }
        #expect(try store.list(prefix: "s").isEmpty)
    }

    /// Whole-object reads stop at their limit instead of filling memory with what a damaged
    /// store holds.
    static func aWholeReadStopsAtItsLimit(_ store: any SnapshotStore) throws {
        try store.put("s/4/manifest.json", [UInt8](repeating: 0x20, count: 3 << 20))
        let error = #expect(throws: StoreError.self) { try store.get("s/4/manifest.json", limit: 1 << 20) }
        #expect(error?.problem.contains("more than the 1048576 bytes") == true)
        #expect(try store.get("s/4/manifest.json", limit: 3 << 20).count == 3 << 20)
    }

    public static let all: [(String, @Sendable (any SnapshotStore) throws -> Void)] = [
        ("aWholeReadStopsAtItsLimit", aWholeReadStopsAtItsLimit),
        ("keysHoldingALeftoverMarkerAreRefused", keysHoldingALeftoverMarkerAreRefused),
        ("writesAreInvisibleUntilCommitted", writesAreInvisibleUntilCommitted),
        ("readsBackInChunks", readsBackInChunks),
        ("abortLeavesNothing", abortLeavesNothing),
        ("listsByPrefixAndDeletes", listsByPrefixAndDeletes),
        ("aMissingObjectIsNotFound", aMissingObjectIsNotFound),
    ]
}
