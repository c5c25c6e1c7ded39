import CLibPQ

/// A statement for `Connection.sendPipeline`: text parameters (nil = NULL), and whether to prepare
/// it once per connection and reuse the plan by name.
public struct PipelinedStatement: Sendable, Equatable {
    public let sql: String
    public let parameters: [String?]
    public let prepared: Bool

    public init(_ sql: String, _ parameters: [String?] = [], prepared: Bool = false) {
        self.sql = sql
        self.parameters = parameters
        self.prepared = prepared
    }
}

extension Connection {
    /// At most this many statements go into one batch. The server's replies (about 30 bytes
    /// each) are read only after the Sync, or a batch later, so they must fit in the socket
    /// buffers: otherwise the server blocks writing them while libpq blocks sending the rest.
    public static let pipelineLimit = 256

    /// Sends `statements` and a Sync without waiting for the answers (libpq pipeline mode), so
    /// the server works on them while the caller prepares the next batch. Statements marked
    /// `prepared` are parsed the first time this connection sees their text and run by name
    /// after that. Collect each batch's answers, oldest first, with `collectPipeline`; keep
    /// only a few batches outstanding (see `pipelineLimit`).
    public func sendPipeline(_ statements: [PipelinedStatement]) throws {
        precondition(statements.count <= Self.pipelineLimit, "pipeline of \(statements.count) statements")
        let conn = try requireHandle()
        if PQpipelineStatus(conn) == PQ_PIPELINE_OFF {
            guard PQenterPipelineMode(conn) == 1 else { throw connectionLost() }
        }
        var replies: [PipelineReply] = []
        for statement in statements {
            var name: String?
            if statement.prepared {
                if let known = preparedStatements[statement.sql] ?? pendingPrepares[statement.sql] {
                    name = known
                } else {
                    preparedCount += 1
                    let new = "continuity_\(preparedCount)"
                    guard PQsendPrepare(conn, new, statement.sql, Int32(statement.parameters.count), nil) == 1 else { throw connectionLost() }
                    pendingPrepares[statement.sql] = new
                    replies.append(.prepare(sql: statement.sql, name: new))
                    name = new
                }
            }
            let sent = withCStringArray(statement.parameters) { values in
                if let name {
                    PQsendQueryPrepared(conn, name, Int32(statement.parameters.count), values, nil, nil, 0)
                } else {
                    PQsendQueryParams(conn, statement.sql, Int32(statement.parameters.count), nil, values, nil, nil, 0)
                }
            }
            guard sent == 1 else { throw connectionLost() }
            replies.append(.statement(statement.sql))
        }
        guard PQpipelineSync(conn) == 1 else { throw connectionLost() }
        outstandingPipelines.append(replies)
    }

    /// The answers to the oldest batch sent, each statement's affected-row count in order: one
    /// result per reply (each followed by libpq's NULL separator), then its Sync. Leaves pipeline
    /// mode when no batch is outstanding. On error the batch is drained and its first error
    /// thrown; the connection stays usable (an open transaction is left aborted).
    public func collectPipeline() throws -> [Int?] {
        let conn = try requireHandle()
        guard !outstandingPipelines.isEmpty else { return [] }
        let replies = outstandingPipelines.removeFirst()
        var counts: [Int?] = []
        var firstError: (any Error)?
        for reply in replies {
            guard let result = PQgetResult(conn) else { throw connectionLost() }
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
                switch reply {
                case .prepare(let sql, let name):
                    preparedStatements[sql] = name
                    pendingPrepares[sql] = nil
                case .statement: counts.append(Int(String(cString: PQcmdTuples(result))))
                }
            case PGRES_PIPELINE_ABORTED:
                if case .prepare(let sql, _) = reply { pendingPrepares[sql] = nil }  // skipped: never created
            default:
                let sql = switch reply { case .prepare(let sql, _), .statement(let sql): sql }
                if case .prepare = reply { pendingPrepares[sql] = nil }
                if firstError == nil { firstError = failure(of: result, on: conn, statement: sql) }
            }
            guard PQgetResult(conn) == nil else { throw connectionLost() }
        }
        guard let sync = PQgetResult(conn) else { throw connectionLost() }
        let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        PQclear(sync)
        guard synced else { throw connectionLost() }
        if outstandingPipelines.isEmpty { PQexitPipelineMode(conn) }
        if let firstError { throw firstError }
        return counts
    }
}

/// What the server will answer to one message of a pipeline, in order.
enum PipelineReply {
    case prepare(sql: String, name: String)
    case statement(String)
}
