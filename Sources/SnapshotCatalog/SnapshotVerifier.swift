import Compression
import SnapshotFormat
import SnapshotObjects
import SnapshotStore

/// `snapshots verify`: re-reads every object of a snapshot and checks it against the manifest
/// without a database: stored size and SHA-256, that the compressed stream is whole, and that
/// it decompresses to the recorded raw size and row count.
public enum SnapshotVerifier {
    public struct Problem: Equatable, Sendable, Codable {
        public let path: String
        public let reason: String
    }

    /// Every problem found; empty means the snapshot is intact.
    public static func verify(_ manifest: Manifest, in store: any SnapshotStore) -> [Problem] {
        guard let codec = try? Codec(parsing: manifest.compression) else {
            return [Problem(path: "manifest.json", reason: "unknown compression \(manifest.compression)")]
        }
        var problems: [Problem] = []
        for file in [manifest.schema.preData, manifest.schema.postData] {
            if let reason = check(file.path, bytes: file.bytes, sha256: file.sha256, in: store, content: nil) {
                problems.append(Problem(path: file.path, reason: reason))
            }
        }
        let largeObjects = manifest.largeObjects.map { [$0.metadata, $0.data] } ?? []
        for part in manifest.tables.flatMap(\.parts) + largeObjects {
            let content = Content(codec: codec, rawBytes: part.rawBytes, rows: part.rows)
            if let reason = check(part.path, bytes: part.storedBytes, sha256: part.sha256, in: store, content: content) {
                problems.append(Problem(path: part.path, reason: reason))
            }
        }
        return problems
    }

    /// What a data part must decompress to.
    private struct Content {
        let codec: Codec
        let rawBytes: Int64
        let rows: Int64
    }

    /// Why the object does not match, or nil when it does.
    private static func check(_ path: String, bytes: Int64, sha256: String, in store: any SnapshotStore,
                              content: Content?) -> String? {
        do {
            let reader = try StoredObjectReader(path, in: store, bytes: bytes, sha256: sha256, codec: content?.codec)
            var plain: [UInt8] = []
            var rawBytes: Int64 = 0, rows: Int64 = 0
            var more = true
            while more {
                plain.removeAll(keepingCapacity: true)
                more = try reader.read(into: &plain, limit: 1 << 18)
                rawBytes += Int64(plain.count)
                // COPY text escapes newlines inside values, so each newline ends one row.
                rows += Int64(plain.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) })
            }
            if let content {
                guard rawBytes == content.rawBytes else { return "decompresses to \(rawBytes) bytes, the manifest says \(content.rawBytes)" }
                guard rows == content.rows else { return "holds \(rows) rows, the manifest says \(content.rows)" }
            }
            return nil
        } catch let mismatch as StoredObjectMismatch {
            return mismatch.storedBytes != bytes ? "\(mismatch.storedBytes) bytes stored, the manifest says \(bytes)" : "its SHA-256 does not match the manifest"
        } catch let error as StoreError where error.kind == .notFound {
            return "missing"
        } catch {
            return "\(error)"
        }
    }
}
