import Foundation
import OperatorErrors
import PostgresTypes

/// One journal record: the state a cutover entered, when, at which cutover LSN (once read) and
/// why (for the endings). The journal is a list of these, one JSON object per line; the last
/// one decides what `recover` does.
public struct CutoverJournal: Equatable, Sendable {
    public let state: CutoverState
    public let time: Date
    public let cutoverLSN: LSN?
    public let reason: String?

    public init(state: CutoverState, time: Date, cutoverLSN: LSN? = nil, reason: String? = nil) {
        self.state = state
        self.time = JournalTime.rounded(time)
        self.cutoverLSN = cutoverLSN
        self.reason = reason
    }

    /// The time as written: UTC, ISO 8601, to the millisecond.
    public var timeText: String { JournalTime.format(time) }

    /// What `cutover --recover` and the dead-man's switch must do when this is the last record
    /// (nil: the journal is empty).
    public static func recover(after last: CutoverJournal?) -> CutoverRecovery {
        last?.state.recovery ?? .nothing
    }

    /// The record as one line of JSON, keys sorted, so the same record always reads the same.
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, an enum's raw value and an LSN's text cannot fail.
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads a line `jsonLine` wrote; anything else is a failure naming the line, never a trap.
    public init(jsonLine: String) throws(Failure) {
        do {
            self = try JSONDecoder().decode(CutoverJournal.self, from: Data(jsonLine.utf8))
        } catch {
            throw Failure("the cutover journal holds a record that cannot be read: \(jsonLine.prefix(200))",
                          fix: "inspect the journal (continuity cutover status) and settle the cutover by hand")
        }
    }
}

extension CutoverJournal: Codable {
    private enum CodingKeys: String, CodingKey {
        case state, time, cutoverLSN = "cutover_lsn", reason
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        state = try container.decode(CutoverState.self, forKey: .state)
        let text = try container.decode(String.self, forKey: .time)
        guard let time = JournalTime.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: .time, in: container, debugDescription: "not a time: \(text)")
        }
        self.time = time
        cutoverLSN = try container.decodeIfPresent(LSN.self, forKey: .cutoverLSN)
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(state, forKey: .state)
        try container.encode(JournalTime.format(time), forKey: .time)
        // Always present (null when unknown), so every record has the same keys.
        try container.encode(cutoverLSN, forKey: .cutoverLSN)
        try container.encode(reason, forKey: .reason)
    }
}

extension CutoverJournal: CustomStringConvertible {
    /// The record for people (`cutover status`): time, state, LSN, reason, on one line.
    public var description: String {
        var line = "\(JournalTime.format(time))  \(state.rawValue)"
        if let cutoverLSN { line += "  at \(cutoverLSN)" }
        if let reason { line += "  \(reason)" }
        return line
    }
}

/// A record's time: UTC, ISO 8601, to the millisecond (the report's state durations come from
/// these). Kept as whole milliseconds so a record reads back equal to what was written:
/// Foundation's fractional-second format truncates and would drift by one.
private enum JournalTime {
    private static let seconds = Date.ISO8601FormatStyle()

    static func rounded(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds(date)) / 1000)
    }

    static func format(_ date: Date) -> String {
        let ms = milliseconds(date)
        let fraction = ms.remainderModulo(1000)
        let text = Date(timeIntervalSince1970: Double((ms - fraction) / 1000)).formatted(seconds)  // "…T15:06:40Z"
        let digits = String(fraction)
        return String(text.dropLast()) + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 4, parts[1].last == "Z",
              parts[1].dropLast().allSatisfy({ $0.isASCII && $0.isNumber }), let fraction = Int64(parts[1].dropLast()),
              let whole = try? seconds.parse(parts[0] + "Z"), let wholeSeconds = Int64(exactly: whole.timeIntervalSince1970)
        else { return nil }
        return Date(timeIntervalSince1970: Double(wholeSeconds * 1000 + fraction) / 1000)
    }

    private static func milliseconds(_ date: Date) -> Int64 {
        // A clock's date is far inside Int64's range; anything else (NaN, infinity) reads as 1970, not a trap.
        Int64(exactly: (date.timeIntervalSince1970 * 1000).rounded()) ?? 0
    }
}

private extension Int64 {
    /// The remainder in 0..<divisor, for times before 1970 too.
    func remainderModulo(_ divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}
