/// A snapshot's large objects (`pg_largeobject_metadata`), carried as two parts checked like
/// every other: `data/large-objects.metadata.copy[.ext]`, one COPY row per object (oid, owner,
/// ACL, comment), and `data/large-objects.data.copy[.ext]`, one row per chunk of at most
/// `chunkSize` bytes of content (oid, offset, bytea). Restore recreates each with its oid.
/// The manifest's totals count their stored bytes (the snapshot's size in the store), not
/// their rows or raw bytes, which are the tables'.
extension Manifest {
    public struct LargeObjects: Codable, Equatable, Sendable {
        public static let chunkSize = 1 << 20

        public var count: Int64
        public var metadata: Part
        public var data: Part

        public init(count: Int64, metadata: Part, data: Part) {
            self.count = count
            self.metadata = metadata
            self.data = data
        }
    }
}

extension SnapshotLayout {
    public func largeObjects(_ kind: String, fileExtension: String?) -> String {
        "\(directory)/data/large-objects.\(kind).copy" + (fileExtension.map { ".\($0)" } ?? "")
    }
}
