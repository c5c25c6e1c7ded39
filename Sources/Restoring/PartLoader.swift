import Checksum
import Compression
import OperatorErrors
import PostgresClient
import PostgresTypes
import ProgressDisplay
import SnapshotFormat
import SnapshotStore

/// Loads one part: read from the store, hash, decompress, COPY in — streamed on the
/// connection's thread. The transaction commits only if the stored bytes hash to the
/// manifest's SHA-256, the compressed stream ends where it should, and the row count matches;
/// otherwise nothing of the part is kept and the error names it.
enum PartLoader {
    static func load(_ part: Manifest.Part, into table: Manifest.Table, on connection: Connection,
                     codec: Codec, store: any SnapshotStore, progress: ProgressMeter) async throws {
        try await connection.perform { connection in
            try connection.execute("BEGIN")
            do {
                let reader = try store.makeReader(part.path)
                let decompressor = try codec.makeDecompressor()
                let hasher = SHA256Hasher()
                var stored: [UInt8] = []
                var storedBytes: Int64 = 0
                // No column list for a table without columns: `COPY t () …` is a syntax error.
                let columns = table.columns.isEmpty ? "" : " (\(table.columns.joined(separator: ", ")))"
                let target = qualifiedName(table.schema, table.name)
                let summary = try connection.copyIn("COPY \(target)\(columns) FROM STDIN") { raw in
                    stored.removeAll(keepingCapacity: true)
                    // Small reads: COPY text can inflate 50:1 or more, and libpq buffers each
                    // chunk again before sending, so a 256 KiB read could hold 25 MB twice.
                    let more = try reader.read(into: &stored, limit: 16 << 10)
                    try stored.withUnsafeBytes { bytes in
                        hasher.update(bytes)
                        try decompressor.decompress(bytes, into: &raw)
                    }
                    storedBytes += Int64(stored.count)
                    progress.advance(bytes: raw.count)
                    if !more {
                        try decompressor.finish()
                        let digest = hasher.finish().hex
                        guard storedBytes == part.storedBytes, digest == part.sha256 else {
                            throw DamagedPart(path: part.path, reason: "its SHA-256 or size does not match the manifest (\(storedBytes) bytes, sha256 \(digest.prefix(12))…)")
                        }
                    }
                    return more
                }
                guard summary.rows == part.rows else {
                    throw DamagedPart(path: part.path, reason: "it holds \(summary.rows) rows, the manifest says \(part.rows)")
                }
                try connection.execute("COMMIT")
            } catch let error as CompressionError {
                _ = try? connection.execute("ROLLBACK")
                throw DamagedPart(path: part.path, reason: error.problem)
            } catch {
                _ = try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }
}

/// A part that fails verification. Nothing of it was committed.
public struct DamagedPart: OperatorError {
    public let path: String
    public let reason: String
    public var status: ExitStatus { .failed }
    public var problem: String { "part \(path) is damaged: \(reason); nothing of it was loaded" }
    public var fix: String? { "restore another snapshot (`continuity snapshots list`), or re-take this one" }
}
