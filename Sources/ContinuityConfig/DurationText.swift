import OperatorErrors

/// Durations as operators write them: `500ms`, `2s`, `1.5s`, `10m`, `1h`.
public enum DurationText {
    public static func parse(_ text: String, option: String) throws(UsageError) -> Duration {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            guard let value = Double(number), value.isFinite, value >= 0, value * unit.seconds <= 1e9 else { break }
            return .milliseconds(Int64((value * unit.seconds * 1000).rounded()))
        }
        throw UsageError("--\(option) '\(text)' is not a duration", fix: "write it like 500ms, 2s, 1.5s, 10m or 1h")
    }
}
