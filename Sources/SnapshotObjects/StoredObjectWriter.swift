import Checksum
import Compression
import SnapshotStore

/// One object written into the store: compressed by the codec (nil for a schema section,
/// stored as pg_dump wrote it), then hashed and counted, so the manifest's size and SHA-256
/// are those of the bytes the store holds. Blocking: use it on the thread that makes the bytes.
public final class StoredObjectWriter {
    /// What the manifest records of the object.
    public struct Written: Sendable {
        public let storedBytes: Int64
        public let sha256: String
    }

    private let writer: any ObjectWriter
    private let compressor: (any StreamCompressor)?
    private let hasher = SHA256Hasher()
    private var compressed: [UInt8] = []
    private var storedBytes: Int64 = 0

    private init(_ key: String, in store: any SnapshotStore, codec: Codec?) throws {
        compressor = try codec?.makeCompressor()
        writer = try store.makeWriter(key)
    }

    /// Writes the object at `key` from what `produce` hands to `write`, then commits it; on
    /// any error the object is aborted (nothing of it stays) and the error rethrown.
    public static func write<Result>(_ key: String, to store: any SnapshotStore, codec: Codec?,
                                     _ produce: (_ object: StoredObjectWriter) throws -> Result) throws -> (Result, Written) {
        let object = try StoredObjectWriter(key, in: store, codec: codec)
        do {
            let result = try produce(object)
            if let compressor = object.compressor {
                try compressor.finish(into: &object.compressed)
                try object.flush()
            }
            try object.writer.commit()
            return (result, Written(storedBytes: object.storedBytes, sha256: object.hasher.finish().hex))
        } catch {
            object.writer.abort()
            throw error
        }
    }

    /// Raw bytes of the object: compressed (when there is a codec), hashed, written out.
    public func write(_ raw: UnsafeRawBufferPointer) throws {
        guard let compressor else { return try store(raw) }
        try compressor.compress(raw, into: &compressed)
        try flush()
    }

    private func flush() throws {
        guard !compressed.isEmpty else { return }
        try compressed.withUnsafeBytes(store)
        compressed.removeAll(keepingCapacity: true)
    }

    private func store(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bytes)
        try writer.write(bytes)
        storedBytes += Int64(bytes.count)
    }
}
