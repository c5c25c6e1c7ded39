import CLibPQ

/// What a finished COPY moved.
public struct CopySummary: Sendable, Equatable {
    public let rows: Int64
    public let bytes: Int64
}

extension Connection {
    /// Runs `COPY … TO STDOUT` and hands the data to `sink` in chunks of about `chunkSize`
    /// bytes (whole rows), so a table never sits in memory. If `sink` throws, the COPY is
    /// cancelled on the server, the connection is drained and stays usable, and the sink's
    /// error is rethrown.
    public func copyOut(_ sql: String, chunkSize: Int = 256 << 10,
                        into sink: (UnsafeRawBufferPointer) throws -> Void) throws -> CopySummary {
        let conn = try requireHandle()
        try startCopy(conn, sql, expecting: PGRES_COPY_OUT)
        var chunk = [UInt8]()
        chunk.reserveCapacity(chunkSize + (64 << 10))
        var bytes: Int64 = 0
        var sinkError: (any Error)?

        func deliver() {
            guard sinkError == nil, !chunk.isEmpty else { return }
            do {
                try chunk.withUnsafeBytes(sink)
                bytes += Int64(chunk.count)
            } catch {
                sinkError = error
                cancel()
            }
            chunk.removeAll(keepingCapacity: true)
        }

        while true {
            var row: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(conn, &row, 0)
            if length > 0, let row {
                if sinkError == nil {
                    chunk.append(contentsOf: UnsafeRawBufferPointer(start: row, count: Int(length)))
                }
                PQfreemem(row)
                if chunk.count >= chunkSize { deliver() }
            } else {
                break  // -1: COPY finished; -2: failed, the result below says why
            }
        }
        deliver()
        do {
            let tag = try finishCommand(conn, sql)
            if let sinkError { throw sinkError }
            return CopySummary(rows: Self.rowCount(tag), bytes: bytes)
        } catch {
            throw sinkError ?? error
        }
    }

    /// Runs `COPY … FROM STDIN`, asking `source` for chunks until it returns false (the buffer
    /// it filled last is still sent). If `source` throws, the COPY is aborted on the server,
    /// nothing of it is kept, and the source's error is rethrown.
    @discardableResult
    public func copyIn(_ sql: String, from source: (inout [UInt8]) throws -> Bool) throws -> CopySummary {
        let conn = try requireHandle()
        try startCopy(conn, sql, expecting: PGRES_COPY_IN)
        var chunk = [UInt8]()
        var bytes: Int64 = 0
        do {
            var more = true
            while more {
                chunk.removeAll(keepingCapacity: true)
                more = try source(&chunk)
                guard !chunk.isEmpty else { continue }
                let sent = chunk.withUnsafeBytes { buffer in
                    PQputCopyData(conn, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(buffer.count))
                }
                guard sent == 1 else { throw connectionLost() }
                bytes += Int64(chunk.count)
            }
        } catch {
            PQputCopyEnd(conn, "aborted by continuity")
            _ = try? finishCommand(conn, sql)
            throw error
        }
        guard PQputCopyEnd(conn, nil) == 1 else { throw connectionLost() }
        let tag = try finishCommand(conn, sql)
        return CopySummary(rows: Self.rowCount(tag), bytes: bytes)
    }

    private func startCopy(_ conn: OpaquePointer, _ sql: String, expecting: ExecStatusType) throws {
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == expecting else {
            if status == PGRES_FATAL_ERROR { throw failure(of: result, on: conn, statement: sql) }
            if PQstatus(conn) != CONNECTION_OK { throw connectionLost() }
            throw ServerError(sqlState: "XX000", message: "statement did not start a COPY in the expected direction", statement: sql)
        }
    }

    /// Reads results until libpq has none left; returns the last command tag or throws the
    /// first error, so the connection is idle and reusable either way.
    func finishCommand(_ conn: OpaquePointer, _ sql: String) throws -> String {
        var tag = ""
        var firstError: (any Error)?
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
                tag = String(cString: PQcmdStatus(result))
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                // Still inside a COPY after it should have ended: the connection is broken.
                throw connectionLost()
            default:
                if firstError == nil { firstError = failure(of: result, on: conn, statement: sql) }
            }
        }
        if let firstError { throw firstError }
        if PQstatus(conn) != CONNECTION_OK { throw connectionLost() }
        return tag
    }

    static func rowCount(_ tag: String) -> Int64 {
        tag.split(separator: " ").last.flatMap { Int64($0) } ?? 0
    }
}
