import Foundation
import SnapshotFormat
import Testing

/// A manifest comes from a store continuity does not control: whatever it holds, decoding
/// either gives a manifest that is safe to act on or throws — never a trap, never a path
/// outside the snapshot, never SQL from a column name.
@Suite struct HostileManifestTests {
    /// The sample manifest as JSON, edited by `change`.
    static func json(_ change: (inout [String: Any]) -> Void) throws -> [UInt8] {
        var object = try JSONSerialization.jsonObject(with: Data(ManifestCodec.encode(ManifestTests.sample))) as! [String: Any]
        change(&object)
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    static func editPart(_ object: inout [String: Any], _ key: String, _ value: Any) {
        var tables = object["tables"] as! [[String: Any]]
        var parts = tables[0]["parts"] as! [[String: Any]]
        parts[0][key] = value
        tables[0]["parts"] = parts
        object["tables"] = tables
    }

    @Test(arguments: [
        "orders-db/20261123T104512Z-3f9a/../../etc/passwd",
        "orders-db/20261123T104512Z-3f9a/data/../../other/x",
        "/etc/passwd",
        "orders-db/20261123T000000Z-0000/data/16384.0.copy.gz",  // another snapshot's part
        "other-db/20261123T104512Z-3f9a/data/16384.0.copy.gz",
        "orders-db/20261123T104512Z-3f9a//data/x",
        "orders-db/20261123T104512Z-3f9a/data/x\u{0}y",
        "orders-db/20261123T104512Z-3f9a/data/x.partial-1",
        "orders-db/20261123T104512Z-3f9a/data",
        "",
    ])
    func refusesAPartPathOutsideTheSnapshot(_ path: String) throws {
        let bytes = try Self.json { Self.editPart(&$0, "path", path) }
        let error = #expect(throws: ManifestProblem.self) { try ManifestCodec.decode(bytes) }
        #expect(error?.description.contains("outside the snapshot's directory") == true)
    }

    @Test func refusesASchemaPathOutsideTheSnapshot() throws {
        let bytes = try Self.json { object in
            var schema = object["schema"] as! [String: Any]
            var file = schema["pre_data"] as! [String: Any]
            file["path"] = "../../../root/.ssh/id_rsa"
            schema["pre_data"] = file
            object["schema"] = schema
        }
        #expect(throws: ManifestProblem.self) { try ManifestCodec.decode(bytes) }
    }

    @Test(arguments: ["id); DROP TABLE orders; --", "\"a\" , \"b\"", "\"unterminated", "Upper", "\"\"", "a b", "\"x\u{0}\""])
    func refusesAColumnThatIsNotAnIdentifier(_ column: String) throws {
        let bytes = try Self.json { object in
            var tables = object["tables"] as! [[String: Any]]
            tables[0]["columns"] = ["id", column]
            object["tables"] = tables
        }
        #expect(throws: ManifestProblem.self) { try ManifestCodec.decode(bytes) }
    }

    @Test func acceptsQuotedColumnsAsFormatWritesThem() throws {
        let bytes = try Self.json { object in
            var tables = object["tables"] as! [[String: Any]]
            tables[0]["columns"] = ["id", "\"Note\"", "\"say \"\"hi\"\"\"", "\"order\"", "_x9"]
            object["tables"] = tables
        }
        #expect(try ManifestCodec.decode(bytes).tables[0].columns.count == 5)
    }

    @Test(arguments: ["rows", "raw_bytes", "stored_bytes", "index"])
    func refusesNegativeCounts(_ field: String) throws {
        let bytes = try Self.json { Self.editPart(&$0, field, -1) }
        #expect(throws: ManifestProblem.self) { try ManifestCodec.decode(bytes) }
    }

    /// Two parts of Int64.max bytes: each fits, their sum (the totals every command prints) does not.
    @Test func refusesTotalsThatOverflow() throws {
        let bytes = try Self.json { object in
            var tables = object["tables"] as! [[String: Any]]
            var parts = tables[0]["parts"] as! [[String: Any]]
            parts[0]["raw_bytes"] = Int64.max
            parts[1]["raw_bytes"] = Int64.max
            tables[0]["parts"] = parts
            object["tables"] = tables
        }
        #expect(throws: ManifestProblem.self) { try ManifestCodec.decode(bytes) }
    }

    /// Whatever the damage, decoding throws an error instead of trapping.
    @Test(arguments: [
        #"{"tables": [{"oid": -1}]}"#,
        "{}", "[]", "null", "", "{\"format_version\": 1e400}",
    ])
    func refusesMalformedDocuments(_ text: String) {
        #expect(throws: (any Error).self) { try ManifestCodec.decode(Array(text.utf8)) }
    }

    @Test(arguments: [
        ("rows", "99999999999999999999999"), ("rows", "\"ten\""), ("rows", "1.5"), ("oid", "-5"), ("oid", "4294967296"),
        ("index", "null"), ("sha256", "7"),
    ])
    func refusesWrongTypesAndHugeNumbers(_ field: String, _ value: String) throws {
        var text = String(decoding: try ManifestCodec.encode(ManifestTests.sample), as: UTF8.self)
        let pattern = try Regex("\"\(field)\" : [^,\\n]+")
        text = text.replacing(pattern, with: "\"\(field)\" : \(value)")
        #expect(throws: (any Error).self) { try ManifestCodec.decode(Array(text.utf8)) }
    }

    @Test(arguments: ["stack", "id", "lsn", "tables", "schema", "source", "compression"])
    func refusesAMissingField(_ field: String) throws {
        let bytes = try Self.json { $0.removeValue(forKey: field) }
        #expect(throws: (any Error).self) { try ManifestCodec.decode(bytes) }
    }

    @Test func refusesAPartListedTwice() throws {
        let bytes = try Self.json { object in
            var tables = object["tables"] as! [[String: Any]]
            var parts = tables[0]["parts"] as! [[String: Any]]
            parts[1]["path"] = parts[0]["path"]
            tables[0]["parts"] = parts
            object["tables"] = tables
        }
        let error = #expect(throws: ManifestProblem.self) { try ManifestCodec.decode(bytes) }
        #expect(error?.description.contains("more than once") == true)
    }

    @Test func refusesAStackNameWithAReservedMarker() throws {
        let bytes = try Self.json { $0["stack"] = "orders.partial-db" }
        #expect(throws: ManifestProblem.self) { try ManifestCodec.decode(bytes) }
    }
}
