import PostgresTypes

/// The standby status update ('r') a replication client sends inside CopyBoth, encoded as
/// the protocol describes it (all integers big-endian).
public struct StandbyStatusUpdate: Equatable, Sendable {
    public var written: LSN
    public var flushed: LSN
    public var applied: LSN
    /// Microseconds since 2000-01-01 00:00:00 UTC, PostgreSQL's epoch.
    public var clock: Int64
    public var replyRequested: Bool

    public init(written: LSN, flushed: LSN, applied: LSN, clock: Int64, replyRequested: Bool = false) {
        self.written = written
        self.flushed = flushed
        self.applied = applied
        self.clock = clock
        self.replyRequested = replyRequested
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "r")]
        out.reserveCapacity(34)
        for value in [written.rawValue, flushed.rawValue, applied.rawValue, UInt64(bitPattern: clock)] {
            withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
        }
        out.append(replyRequested ? 1 : 0)
        return out
    }

    /// Seconds between the Unix epoch and PostgreSQL's.
    public static let postgresEpochOffset: Double = 946_684_800

    public static func clock(unixSeconds: Double) -> Int64 {
        Int64((unixSeconds - postgresEpochOffset) * 1_000_000)
    }
}
