import PostgresTypes

/// What arrives inside CopyBoth on a replication connection.
public enum ReplicationFrame: Equatable, Sendable {
    /// 'w': WAL data; for logical replication, one pgoutput message.
    case xLogData(XLogData)
    /// 'k': the server's keepalive; answer at once when it asks for a reply.
    case keepalive(PrimaryKeepalive)

    public static func decode(_ bytes: ArraySlice<UInt8>) throws(PgOutputError) -> ReplicationFrame {
        var reader = ByteReader(bytes, message: "CopyData")
        switch try reader.byte() {
        case UInt8(ascii: "w"):
            var reader = ByteReader(bytes.dropFirst(), message: "XLogData")
            let start = try reader.lsn(), end = try reader.lsn(), time = try reader.integer(Int64.self)
            return .xLogData(XLogData(walStart: start, walEnd: end, sendTime: time, payload: reader.rest()))
        case UInt8(ascii: "k"):
            var reader = ByteReader(bytes.dropFirst(), message: "PrimaryKeepalive")
            let keepalive = PrimaryKeepalive(walEnd: try reader.lsn(), sendTime: try reader.integer(Int64.self),
                                             replyRequested: try reader.byte() == 1)
            try reader.expectEnd()
            return .keepalive(keepalive)
        case let kind:
            throw PgOutputError(message: "CopyData", offset: 0, reason: "unknown kind \(Self.describe(kind))")
        }
    }

    static func describe(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? "'\(Character(UnicodeScalar(byte)))'" : "0x" + String(byte, radix: 16)
    }
}

public struct XLogData: Equatable, Sendable {
    public let walStart: LSN
    public let walEnd: LSN
    /// Microseconds since 2000-01-01.
    public let sendTime: Int64
    public let payload: ArraySlice<UInt8>
}

public struct PrimaryKeepalive: Equatable, Sendable {
    public let walEnd: LSN
    public let sendTime: Int64
    public let replyRequested: Bool
}
