import Compression
import DatabaseCopy
import OperatorErrors
import PostgresClient
import PostgresTypes
import ProgressDisplay
import SnapshotFormat
import SnapshotObjects
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
                let reader = try StoredObjectReader(part.path, in: store, bytes: part.storedBytes, sha256: part.sha256, codec: codec)
                let summary = try connection.copyIn(copyInStatement(schema: table.schema, name: table.name, columns: table.columns)) { raw in
                    // Small reads: COPY text can inflate 50:1 or more, and libpq buffers each
                    // chunk again before sending, so a 256 KiB read could hold 25 MB twice.
                    let more = try reader.read(into: &raw, limit: 16 << 10)
                    progress.advance(bytes: raw.count)
                    return more
                }
                guard summary.rows == part.rows else {
                    throw DamagedPart(path: part.path, reason: "it holds \(summary.rows) rows, the manifest says \(part.rows)")
                }
                try connection.execute("COMMIT")
            } catch let error as StoredObjectMismatch {
                _ = try? connection.execute("ROLLBACK")
                throw error.damaged(detailed: true)
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
