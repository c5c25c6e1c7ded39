import OperatorErrors

/// Durations as a config file or flag writes them: `500ms`, `5s`, `10m`, `1h30m`.
public enum DurationText {
    public static func parse(_ text: String) throws(UsageError) -> Duration {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var milliseconds: Int64 = 0
        guard !rest.isEmpty else { throw bad(text) }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(digits.count)
            // Longest unit first, so "ms" is not read as "m" followed by garbage.
            guard digits.count <= 9, let number = Int64(digits),
                  let (unit, scale) = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) })
            else { throw bad(text) }
            rest = rest.dropFirst(unit.count)
            // Nine digits times an hour fits; a long run of them must not trap.
            let (sum, overflow) = milliseconds.addingReportingOverflow(number * scale)
            guard !overflow else { throw bad(text) }
            milliseconds = sum
        }
        return .milliseconds(milliseconds)
    }

    /// The same, for a flag: the error names it.
    public static func parse(_ text: String, option: String) throws(UsageError) -> Duration {
        do {
            return try parse(text)
        } catch {
            throw UsageError("--\(option) \(error.problem)", fix: error.fix)
        }
    }

    /// `90s` → "1m30s", for reports.
    public static func format(_ duration: Duration) -> String {
        let total = duration.components.seconds
        let millis = duration.components.attoseconds / 1_000_000_000_000_000
        if total == 0 { return "\(millis)ms" }
        let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60)
        return (h > 0 ? "\(h)h" : "") + (m > 0 ? "\(m)m" : "") + (s > 0 || (h == 0 && m == 0) ? "\(s)s" : "")
    }

    private static func bad(_ text: String) -> UsageError {
        UsageError("'\(text)' is not a duration", fix: "write it as 500ms, 30s, 10m or 1h30m")
    }
}
