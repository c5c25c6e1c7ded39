import Checksum
import Compression
import OperatorErrors
import SnapshotStore

/// One object read back from the store and checked as it is read: the stored bytes are
/// hashed and counted, then decompressed by the codec (nil: returned as stored). With the
/// last read the compressed stream must end where it should (else the codec's
/// `CompressionError`) and size and SHA-256 must be the manifest's (else `StoredObjectMismatch`).
/// Blocking: use it on the thread that consumes the bytes.
public final class StoredObjectReader {
    private let path: String
    private let expectedBytes: Int64
    private let expectedSHA256: String
    private let reader: any ObjectReader
    private let decompressor: (any StreamDecompressor)?
    private let hasher = SHA256Hasher()
    private var stored: [UInt8] = []
    public private(set) var storedBytes: Int64 = 0

    public init(_ path: String, in store: any SnapshotStore, bytes: Int64, sha256: String, codec: Codec?) throws {
        self.path = path
        expectedBytes = bytes
        expectedSHA256 = sha256
        reader = try store.makeReader(path)
        decompressor = try codec?.makeDecompressor()
    }

    /// Appends the next bytes to `output`, reading at most `limit` stored bytes; false once the
    /// object is read whole and checked.
    public func read(into output: inout [UInt8], limit: Int) throws -> Bool {
        stored.removeAll(keepingCapacity: true)
        let more = try reader.read(into: &stored, limit: limit)
        try stored.withUnsafeBytes { bytes in
            hasher.update(bytes)
            if let decompressor { try decompressor.decompress(bytes, into: &output) } else { output.append(contentsOf: bytes) }
        }
        storedBytes += Int64(stored.count)
        if !more {
            try decompressor?.finish()
            let digest = hasher.finish().hex
            guard storedBytes == expectedBytes, digest == expectedSHA256 else {
                throw StoredObjectMismatch(path: path, storedBytes: storedBytes, expectedBytes: expectedBytes, sha256: digest)
            }
        }
        return more
    }
}

/// An object whose size or SHA-256 is not the manifest's.
public struct StoredObjectMismatch: Error {
    public let path: String
    public let storedBytes: Int64
    public let expectedBytes: Int64
    public let sha256: String

    public init(path: String, storedBytes: Int64, expectedBytes: Int64, sha256: String) {
        self.path = path
        self.storedBytes = storedBytes
        self.expectedBytes = expectedBytes
        self.sha256 = sha256
    }

    /// As a part that must not be used: what restore and the initial copy's readers throw.
    public func damaged(detailed: Bool) -> DamagedPart {
        DamagedPart(path: path, reason: "its SHA-256 or size does not match the manifest"
                        + (detailed ? " (\(storedBytes) bytes, sha256 \(sha256.prefix(12))…)" : ""))
    }
}

/// A part that fails verification. Nothing of it was committed.
public struct DamagedPart: OperatorError {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var status: ExitStatus { .failed }
    public var problem: String { "part \(path) is damaged: \(reason); nothing of it was loaded" }
    public var fix: String? { "restore another snapshot (`continuity snapshots list`), or re-take this one" }
}
