import DatabaseCopy
import OperatorErrors
import PostgresClient
import ProgressDisplay

/// One part of one table, straight from the active into the passive: COPY TO on one
/// connection's thread feeds COPY FROM on the other's through a small pipe.
enum PartTransfer {
    /// A stop (task cancellation, e.g. SIGTERM) cancels both COPYs on their servers.
    static func run(_ part: TablePart, from source: Connection, to target: Connection,
                    progress: ProgressMeter) async throws -> CopySummary {
        try Task.checkCancellation()
        return try await withTaskCancellationHandler {
            try await transfer(part, from: source, to: target, progress: progress)
        } onCancel: {
            source.cancel()
            target.cancel()
        }
    }

    private static func transfer(_ part: TablePart, from source: Connection, to target: Connection,
                                 progress: ProgressMeter) async throws -> CopySummary {
        let pipe = ChunkPipe()
        let outSQL = part.table.copyOutSQL(where: part.condition), inSQL = part.table.copyInSQL
        async let sent = source.perform { connection in
            do {
                let summary = try connection.copyOut(outSQL) { chunk in
                    try pipe.put(chunk)
                    progress.advance(bytes: chunk.count)
                }
                pipe.finish()
                return summary
            } catch {
                pipe.fail(error)
                throw error
            }
        }
        let received: CopySummary
        do {
            received = try await target.perform { connection in
                do {
                    return try connection.copyIn(inSQL) { buffer in try pipe.take(into: &buffer) }
                } catch {
                    pipe.fail(error)  // unblocks the reading side
                    throw error
                }
            }
        } catch {
            _ = try? await sent
            throw error
        }
        let summary = try await sent
        guard summary.rows == received.rows else {
            throw Failure("copying \(part.table.displayName) part \(part.index): \(summary.rows) rows read, \(received.rows) written",
                          fix: "re-run with --clean; if it happens again, report it")
        }
        return summary
    }
}
