import CLibPQ
import Foundation
import PostgresTypes

/// What IDENTIFY_SYSTEM reports.
public struct SystemIdentity: Sendable, Equatable {
    public let systemID: String
    public let timeline: Int
    public let walPosition: LSN
    public let database: String?
}

/// A logical slot just created. `snapshotName` is usable with `SET TRANSACTION SNAPSHOT` only
/// while the replication connection that created it stays open and runs no other command.
public struct CreatedSlot: Sendable, Equatable {
    public let name: String
    public let consistentPoint: LSN
    public let snapshotName: String?
    public let plugin: String
}

public enum SlotSnapshot: String, Sendable {
    case export, noExport = "nothing", use
}

/// Walsender commands and the CopyBoth stream, for connections opened with `replication: true`.
extension Connection {
    public func identifySystem() throws -> SystemIdentity {
        let row = try query("IDENTIFY_SYSTEM").rows[0]
        return SystemIdentity(systemID: try row.decode("systemid"), timeline: try row.decode("timeline"),
                              walPosition: try row.decode("xlogpos"), database: row["dbname"])
    }

    public func createLogicalSlot(_ name: String, plugin: String = "pgoutput", snapshot: SlotSnapshot = .export,
                                  temporary: Bool = false) throws -> CreatedSlot {
        try Self.requireSlotName(name)
        let kind = temporary ? "TEMPORARY " : ""
        let row = try query("CREATE_REPLICATION_SLOT \(name) \(kind)LOGICAL \(plugin) (SNAPSHOT '\(snapshot.rawValue)')").rows[0]
        return CreatedSlot(name: try row.decode("slot_name"), consistentPoint: try row.decode("consistent_point"),
                           snapshotName: row["snapshot_name"], plugin: try row.decode("output_plugin"))
    }

    public func dropSlot(_ name: String) throws {
        try Self.requireSlotName(name)
        try execute("DROP_REPLICATION_SLOT \(name) WAIT")
    }

    /// Enters CopyBoth: from here on use `receive` and `sendCopyData` until `endReplication`.
    /// Option values are quoted here; names are the plugin's (`proto_version`, `publication_names`).
    public func startLogicalReplication(slot: String, from lsn: LSN, options: [(String, String)]) throws {
        try Self.requireSlotName(slot)
        let conn = try requireHandle()
        let list = options.map { "\($0.0) '\($0.1.replacingScalars("'", with: "''"))'" }.joined(separator: ", ")
        let sql = "START_REPLICATION SLOT \(slot) LOGICAL \(lsn)" + (list.isEmpty ? "" : " (\(list))")
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COPY_BOTH else {
            throw failure(of: result, on: conn, statement: sql)
        }
        // Non-blocking from here: reads wait in poll() with a deadline, so the caller gets
        // control back in time to send status updates and answer keepalives.
        guard PQsetnonblocking(conn, 1) == 0 else { throw connectionLost() }
    }

    /// Waits up to `timeout` for CopyData messages and returns those available (up to `limit`
    /// messages or about `byteLimit` bytes), an empty array when the wait ran out, or nil when
    /// the server ended the stream.
    public func receive(timeout: Duration, limit: Int = 256, byteLimit: Int = 8 << 20) throws -> [[UInt8]]? {
        let conn = try requireHandle()
        var messages: [[UInt8]] = []
        var bytes = 0
        var readSocket = false
        let deadline = ContinuousClock.now + timeout
        while messages.count < limit, bytes < byteLimit {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(conn, &buffer, 1)
            if length > 0, let buffer {
                messages.append(Array(UnsafeRawBufferPointer(start: buffer, count: Int(length))))
                bytes += Int(length)
                readSocket = false
                PQfreemem(buffer)
                continue
            }
            if length == -1 {
                _ = try finishCommand(conn, "START_REPLICATION")
                return messages.isEmpty ? nil : messages
            }
            if length == -2 { _ = try finishCommand(conn, "START_REPLICATION"); throw connectionLost() }
            // libpq's buffer holds no whole message: read what the socket already has (no
            // waiting), and return what we have once that brings nothing more.
            if !messages.isEmpty {
                if readSocket { break }
                guard PQconsumeInput(conn) == 1 else { throw connectionLost() }
                readSocket = true
                continue
            }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { break }
            guard try waitForSocket(conn, events: Int16(POLLIN), timeout: remaining) else { break }
            guard PQconsumeInput(conn) == 1 else { throw connectionLost() }
        }
        return messages
    }

    /// Sends one CopyData message in CopyBoth; what it holds (a standby status update) is
    /// encoded by PgOutput, which holds the replication frames of both directions.
    public func sendCopyData(_ bytes: [UInt8]) throws {
        let conn = try requireHandle()
        let queued = bytes.withUnsafeBytes {
            PQputCopyData(conn, $0.baseAddress!.assumingMemoryBound(to: CChar.self), Int32($0.count))
        }
        guard queued == 1 else { throw connectionLost() }
        try flush(conn)
    }

    /// Leaves CopyBoth cleanly (CopyDone both ways) so the connection can run commands again.
    public func endReplication() throws {
        let conn = try requireHandle()
        guard PQputCopyEnd(conn, nil) >= 0 else { throw connectionLost() }
        try flush(conn)
        // Drain what the server still sends until it answers our CopyDone.
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(conn, &buffer, 1)
            if let buffer { PQfreemem(buffer) }
            if length > 0 { continue }
            if length < 0 { break }
            guard try waitForSocket(conn, events: Int16(POLLIN), timeout: .seconds(30)),
                  PQconsumeInput(conn) == 1 else { throw connectionLost() }
        }
        PQsetnonblocking(conn, 0)
        _ = try finishCommand(conn, "START_REPLICATION")
    }

    private func flush(_ conn: OpaquePointer) throws {
        while true {
            switch PQflush(conn) {
            case 0: return
            case 1: guard try waitForSocket(conn, events: Int16(POLLOUT), timeout: .seconds(30)) else {
                    throw ConnectionLost(target: dsn.shortDescription, reason: "could not send for 30 s")
                }
            default: throw connectionLost()
            }
        }
    }

    /// poll() on libpq's socket; true when ready, false when the timeout ran out.
    func waitForSocket(_ conn: OpaquePointer, events: Int16, timeout: Duration) throws -> Bool {
        var descriptor = pollfd(fd: PQsocket(conn), events: events, revents: 0)
        let (seconds, attoseconds) = timeout.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
        while true {
            let ready = poll(&descriptor, 1, milliseconds)
            if ready >= 0 { return ready > 0 }
            if errno != EINTR { throw connectionLost() }
        }
    }

    /// Slot names PostgreSQL accepts: lower-case letters, digits and underscores, at most 63.
    public static func isValidSlotName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 63 && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }
    }

    static func requireSlotName(_ name: String) throws {
        guard isValidSlotName(name) else {
            throw ServerError(sqlState: "42602", message: "invalid slot name \"\(name)\"",
                              hint: "slot names use only lower-case letters, digits and underscores (at most 63)",
                              statement: "slot name check")
        }
    }
}
