import CLibPQ
import Foundation

extension Connection {
    /// Runs one simple-protocol statement, waiting for its answer no later than `deadline`.
    ///
    /// For a command that may never return on its own, such as PgBouncer's `PAUSE` (it waits
    /// for every server connection of the database to be released, and a concurrent `RESUME`
    /// can leave it waiting forever, pgbouncer#715): the wait is a poll() with a timeout on
    /// this connection's thread, so neither that thread nor the cooperative pool is stuck.
    /// Returns nil when the deadline came first; the statement is then still under way and
    /// the connection is unusable for anything else: close it.
    public func query(_ sql: String, answeringBy deadline: ContinuousClock.Instant) throws -> QueryResult? {
        let conn = try requireHandle()
        guard PQsendQuery(conn, sql) == 1 else { throw connectionLost() }
        // Collect every result up to the end (NULL), each awaited by the deadline; the first error wins.
        var answer: QueryResult?
        var failure: (any Error)?
        while true {
            while PQisBusy(conn) == 1 {
                let remaining = deadline - ContinuousClock.now
                if remaining <= .zero { return nil }
                if try waitForSocket(conn, events: Int16(POLLIN), timeout: remaining) {
                    guard PQconsumeInput(conn) == 1 else { throw connectionLost() }
                }
            }
            guard let result = PQgetResult(conn) else { break }
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
                answer = Self.rows(of: result)
            default:
                if failure == nil { failure = self.failure(of: result, on: conn, statement: sql) }
            }
        }
        if let failure { throw failure }
        guard let answer else { throw connectionLost() }
        return answer
    }
}
