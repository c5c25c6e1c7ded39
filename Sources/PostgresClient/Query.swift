import CLibPQ

extension Connection {
    /// Runs SQL and returns its rows.
    ///
    /// Without parameters this is the simple-query protocol (several statements allowed, the
    /// last one's result returned). With parameters it is one extended-protocol statement;
    /// parameters are sent as text, nil is SQL NULL: values never get spliced into SQL.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        let conn = try requireHandle()
        let result: OpaquePointer?
        if parameters.isEmpty {
            result = PQexec(conn, sql)
        } else {
            result = withCStringArray(parameters) { values in
                PQexecParams(conn, sql, Int32(parameters.count), nil, values, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_SINGLE_TUPLE:
            return Self.rows(of: result!)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
            throw failure(of: result, on: conn, statement: sql)
        default:
            // A COPY started by plain query() would leave the connection mid-protocol.
            if PQstatus(conn) != CONNECTION_OK { throw connectionLost() }
            throw ServerError(sqlState: "XX000", message: "unexpected result \(String(cString: PQresStatus(PQresultStatus(result)))); use copyOut/copyIn for COPY", statement: sql)
        }
    }

    /// Runs a statement for its effect; returns the affected row count when the tag has one.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> Int? {
        try query(sql, parameters).affectedRows
    }

    static func rows(of result: OpaquePointer) -> QueryResult {
        let columnCount = PQnfields(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        let rows = (0..<PQntuples(result)).map { row in
            Row(values: (0..<columnCount).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }, columns: columns)
        }
        return QueryResult(columns: columns, rows: rows, commandTag: String(cString: PQcmdStatus(result)))
    }
}
