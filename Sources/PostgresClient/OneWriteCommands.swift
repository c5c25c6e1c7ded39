import CLibPQ
import Foundation

extension Connection {
    /// Sends `commands` as simple queries in a single write on this session's socket, then
    /// reads every answer by `deadline`; throws the first command's error the server sent.
    ///
    /// For PgBouncer's admin console, whose single-threaded event loop then handles them back
    /// to back, with nothing else in between: its `RELOAD` followed by `RESUME` leaves no moment
    /// in which a client logging in makes PgBouncer open a server connection that the pause
    /// then kills, which would hold every new server connection back for `server_login_retry`
    /// (15 s by default) after the RESUME.
    ///
    /// libpq cannot send a second simple query before the first is answered, so the bytes go
    /// around it, on its socket, between two of its own exchanges (its input is then fully
    /// consumed, and what is read here ends exactly at the last answer). Over TLS that is
    /// impossible: the commands then go one by one.
    public func runInOneWrite(_ commands: [String], answeringBy deadline: ContinuousClock.Instant) throws {
        let conn = try requireHandle()
        guard PQsslInUse(conn) == 0 else {
            for command in commands {
                guard try query(command, answeringBy: deadline) != nil else { throw lateAnswer(commands) }
            }
            return
        }
        guard PQtransactionStatus(conn) == PQTRANS_IDLE else {
            throw ConnectionLost(target: dsn.shortDescription, reason: "the session is busy; commands cannot be sent around libpq")
        }
        let fd = PQsocket(conn)
        var unsent = SimpleQueryWire.messages(commands)[...]
        while !unsent.isEmpty {
            let written = unsent.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written > 0 {
                unsent = unsent.dropFirst(written)
            } else if written < 0, errno == EAGAIN || errno == EINTR {
                let remaining = deadline - .now
                guard remaining > .zero, try waitForSocket(conn, events: Int16(POLLOUT), timeout: remaining) else { throw lateAnswer(commands) }
            } else {
                throw connectionLost()
            }
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let parsed: (answers: [SimpleQueryWire.Answer], consumed: Int)
            do {
                parsed = try SimpleQueryWire.answers(in: received, expected: commands.count)
            } catch {
                throw ConnectionLost(target: dsn.shortDescription, reason: "an answer to \(commands.joined(separator: "; ")) could not be read")
            }
            if parsed.answers.count == commands.count {
                // Anything after the last answer was meant for libpq, which will never see it.
                guard parsed.consumed == received.count else {
                    throw ConnectionLost(target: dsn.shortDescription, reason: "more than the answers to \(commands.joined(separator: "; ")) arrived; close this session")
                }
                if let (index, error) = parsed.answers.enumerated().first(where: { $0.element != nil }).map({ ($0.offset, $0.element!) }) {
                    throw ServerError(sqlState: error.sqlState, severity: error.severity, message: error.message,
                                      detail: error.detail, hint: error.hint, statement: commands[index])
                }
                return
            }
            let remaining = deadline - .now
            guard remaining > .zero, try waitForSocket(conn, events: Int16(POLLIN), timeout: remaining) else { throw lateAnswer(commands) }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[..<count]
            } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                throw connectionLost()
            }
        }
    }

    private func lateAnswer(_ commands: [String]) -> ConnectionLost {
        ConnectionLost(target: dsn.shortDescription, reason: "no answer to \(commands.joined(separator: "; ")) in time; close this session")
    }
}
