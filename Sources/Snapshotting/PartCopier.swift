import Compression
import PostgresClient
import ProgressDisplay
import SnapshotFormat
import SnapshotObjects
import SnapshotStore

/// One part of one table: COPY out, compress, hash, write to the store — streamed chunk by
/// chunk on the connection's thread, so memory stays flat however large the part is.
enum PartCopier {
    struct Output: Sendable {
        let rows: Int64
        let rawBytes: Int64
        let storedBytes: Int64
        let sha256: String
    }

    /// A stop (task cancellation, e.g. SIGTERM) cancels the COPY on the server.
    static func copy(_ sql: String, on connection: Connection, codec: Codec,
                     store: any SnapshotStore, key: String, progress: ProgressMeter) async throws -> Output {
        try Task.checkCancellation()
        return try await withTaskCancellationHandler {
            try await copyPart(sql, on: connection, codec: codec, store: store, key: key, progress: progress)
        } onCancel: {
            connection.cancel()
        }
    }

    private static func copyPart(_ sql: String, on connection: Connection, codec: Codec,
                                 store: any SnapshotStore, key: String, progress: ProgressMeter) async throws -> Output {
        try await connection.perform { connection in
            let (summary, written) = try StoredObjectWriter.write(key, to: store, codec: codec) { object in
                try connection.copyOut(sql) { chunk in
                    progress.advance(bytes: chunk.count)
                    try object.write(chunk)
                }
            }
            return Output(rows: summary.rows, rawBytes: summary.bytes, storedBytes: written.storedBytes, sha256: written.sha256)
        }
    }
}
