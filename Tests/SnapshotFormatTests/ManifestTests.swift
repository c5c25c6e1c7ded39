import Foundation
import PostgresTypes
import SnapshotFormat
import Testing

@Suite struct ManifestTests {
    static let sample = Manifest(
        toolVersion: "0.1.0", stack: "orders-db", id: SnapshotID(rawValue: "20261123T104512Z-3f9a")!,
        startedAt: Date(timeIntervalSince1970: 1_795_000_000), finishedAt: Date(timeIntervalSince1970: 1_795_000_042),
        source: .init(serverVersion: "15.18", serverVersionNumber: 150018, systemIdentifier: "7300000000000000001", database: "orders"),
        lsn: LSN("0/16B3748")!, compression: "gzip:1",
        schema: .init(preData: .init(path: "orders-db/20261123T104512Z-3f9a/schema/pre-data.sql", bytes: 100, sha256: "aa"),
                      postData: .init(path: "orders-db/20261123T104512Z-3f9a/schema/post-data.sql", bytes: 50, sha256: "bb")),
        tables: [.init(oid: 16384, schema: "public", name: "orders", columns: ["id", "note"], rows: 10,
                       parts: [.init(index: 0, path: "orders-db/20261123T104512Z-3f9a/data/16384.0.copy.gz", rows: 6, rawBytes: 600, storedBytes: 200, sha256: "cc"),
                               .init(index: 1, path: "orders-db/20261123T104512Z-3f9a/data/16384.1.copy.gz", rows: 4, rawBytes: 400, storedBytes: 150, sha256: "dd")])],
        sequences: [.init(schema: "public", name: "orders_id_seq", lastValue: 10, isCalled: true)],
        fence: nil)

    @Test func roundTrips() throws {
        let decoded = try ManifestCodec.decode(ManifestCodec.encode(Self.sample))
        #expect(decoded == Self.sample)
    }

    @Test func writesTheFieldsTheFormatNames() throws {
        let json = String(decoding: try ManifestCodec.encode(Self.sample), as: UTF8.self)
        for field in ["\"format_version\" : 1", "\"lsn\" : \"0/16B3748\"", "\"system_identifier\"", "\"raw_bytes\" : 600",
                      "\"stored_bytes\" : 200", "\"sha256\" : \"cc\"", "\"last_value\" : 10", "\"started_at\" : \"2026-",
                      "\"totals\""] {
            #expect(json.contains(field), "missing \(field)")
        }
        #expect(Self.sample.totals.rows == 10)
        #expect(Self.sample.totals.storedBytes == 200 + 150 + 100 + 50)
    }

    /// `snapshot --slot`: the slot is written when there is one, and a manifest without it
    /// (older, or taken without --slot) reads as none.
    @Test func carriesTheKeptSlotWhenThereIsOne() throws {
        var kept = Self.sample
        kept.slot = .init(name: "orders_follow", publication: "continuity")
        let json = String(decoding: try ManifestCodec.encode(kept), as: UTF8.self)
        #expect(json.contains("\"name\" : \"orders_follow\""))
        #expect(json.contains("\"publication\" : \"continuity\""))
        #expect(try ManifestCodec.decode(Array(json.utf8)).slot == kept.slot)
        let without = String(decoding: try ManifestCodec.encode(Self.sample), as: UTF8.self)
        #expect(!without.contains("\"slot\""))
        #expect(try ManifestCodec.decode(Array(without.utf8)).slot == nil)
    }

    @Test func refusesAnotherFormatVersion() throws {
        var json = String(decoding: try ManifestCodec.encode(Self.sample), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"format_version\" : 1", with: "\"format_version\" : 2")
        #expect(throws: DecodingError.self) { try ManifestCodec.decode(Array(json.utf8)) }
    }
}

@Suite struct LayoutTests {
    @Test func idsSortByTimeAndParse() throws {
        let early = SnapshotID.new(at: Date(timeIntervalSince1970: 1_700_000_000))
        let late = SnapshotID.new(at: Date(timeIntervalSince1970: 1_700_000_001))
        #expect(early < late)
        #expect(early.rawValue.hasPrefix("20231114T221320Z-"))
        #expect(SnapshotID(rawValue: early.rawValue) == early)
        #expect(SnapshotID(rawValue: "latest") == nil)
        #expect(SnapshotID(rawValue: "../../etc-passwd") == nil)
    }

    /// A failed snapshot is removed manifest first: the old order (sorted keys) removed
    /// `data/…` before `manifest.json`, so an interruption left a listed snapshot without parts.
    @Test func deletesTheManifestFirst() throws {
        let layout = SnapshotLayout(stack: "s", id: SnapshotID(rawValue: "20261123T104512Z-3f9a")!)
        let keys = [layout.part(table: 1, index: 0, fileExtension: "gz"), layout.manifest, layout.preData, layout.postData]
        #expect(layout.deletionOrder(keys.sorted()) == [layout.manifest, layout.part(table: 1, index: 0, fileExtension: "gz"),
                                                        layout.postData, layout.preData])
    }

    @Test func placesObjectsAsTheFormatSays() throws {
        let layout = SnapshotLayout(stack: "orders-db", id: SnapshotID(rawValue: "20261123T104512Z-3f9a")!)
        #expect(layout.manifest == "orders-db/20261123T104512Z-3f9a/manifest.json")
        #expect(layout.preData == "orders-db/20261123T104512Z-3f9a/schema/pre-data.sql")
        #expect(layout.part(table: 16384, index: 2, fileExtension: "gz") == "orders-db/20261123T104512Z-3f9a/data/16384.2.copy.gz")
        #expect(layout.part(table: 16384, index: 0, fileExtension: nil) == "orders-db/20261123T104512Z-3f9a/data/16384.0.copy")
    }

    @Test(arguments: ["", "../x", ".hidden", "a/b", "with space", String(repeating: "x", count: 101),
                      "x.partial-y", "x.upload-y"])
    func refusesUnusableStackNames(_ name: String) {
        #expect(throws: (any Error).self) { try SnapshotLayout.validate(stack: name) }
    }

    @Test func acceptsPlainStackNames() throws {
        try SnapshotLayout.validate(stack: "orders-db")
        try SnapshotLayout.validate(stack: "eu_west.orders-2")
    }
}
