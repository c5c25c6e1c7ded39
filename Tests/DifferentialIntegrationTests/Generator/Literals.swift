import TestSupport

/// SQL literals for generated values, and the hazardous values themselves.
enum Literal {
    /// A standard-conforming string literal: only the quote needs doubling.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    static func typed(_ text: String, _ type: String) -> String { quoted(text) + "::" + type }

    /// A quoted identifier.
    static func identifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// Pieces text values are built from: what COPY's text format, array and composite
    /// syntax, hstore and the applier's own quoting must all carry through.
    static let textPieces = ["'", "''", "\\", "\\\\", "\t", "\n", "\r", "\\N", "\\n", "NULL", "\"", ",", "{", "}", "(", ")",
                             "=>", "ü", "日本", "🙂", "é", " ", "a", "B", "z", "0", "9", "$$", ";", "--", "%s", "\\x00"]

    /// A hazardous string of at most `limit` characters (code points, as PostgreSQL counts).
    static func text(_ rng: inout SplitMix64, limit: Int = 40) -> String {
        switch rng.below(10) {
        case 0: return ""
        case 1: return rng.pick(["\\N", "NULL", " ", "\\", "'", "\"\"", "{}", "()"].filter { $0.unicodeScalars.count <= limit })
        default:
            var result = ""
            var length = 0
            for _ in 0..<rng.int(1...8) {
                let piece = rng.pick(textPieces)
                let size = piece.unicodeScalars.count
                guard length + size <= limit else { break }
                result += piece
                length += size
            }
            return result
        }
    }

    /// Printable text that compresses badly, so that PostgreSQL stores it out of line.
    static func incompressible(_ rng: inout SplitMix64, count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 'ü\\")
        return String((0..<count).map { _ in alphabet[rng.below(alphabet.count)] })
    }

    /// Doubles whose text forms are easy to get wrong: rounding with extra_float_digits < 1,
    /// negative zero, the non-finite values, subnormals and the extremes.
    static let float8Hazards = ["0.30000000000000004", "-0", "NaN", "Infinity", "-Infinity", "1e-300", "4.9e-324",
                                "2.2250738585072014e-308", "1.7976931348623157e+308", "0.1", "-123456789.12345678", "1"]
    static let float4Hazards = ["0.1", "-0", "NaN", "Infinity", "-Infinity", "1e-38", "1.4e-45", "3.4028235e+38",
                                "0.30000001", "16777217", "-2.5"]

    static func float8(_ rng: inout SplitMix64) -> String {
        if rng.chance(50) { return rng.pick(float8Hazards) }
        let value = Double(bitPattern: rng.next())
        return value.isFinite ? "\(value)" : rng.pick(float8Hazards)
    }

    static func float4(_ rng: inout SplitMix64) -> String {
        if rng.chance(50) { return rng.pick(float4Hazards) }
        let value = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
        return value.isFinite ? "\(value)" : rng.pick(float4Hazards)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// A date in ISO form (unambiguous under any DateStyle), with the ones a day/month swap
    /// changes or breaks, the infinities and BC.
    static func date(_ rng: inout SplitMix64) -> String {
        switch rng.below(8) {
        case 0: return rng.pick(["2024-03-04", "2024-02-13", "2024-12-31", "2000-02-29"])
        case 1: return rng.pick(["infinity", "-infinity", "0044-03-15 BC", "4713-01-01 BC", "9999-12-31"])
        default: return "\(padded(rng.int(1...9999), 4))-\(padded(rng.int(1...12), 2))-\(padded(rng.int(1...28), 2))"
        }
    }

    static func time(_ rng: inout SplitMix64) -> String {
        if rng.chance(10) { return rng.pick(["24:00:00", "00:00:00", "23:59:59.999999"]) }
        let fraction = rng.chance(50) ? "." + padded(rng.below(1_000_000), 6) : ""
        return "\(padded(rng.below(24), 2)):\(padded(rng.below(60), 2)):\(padded(rng.below(60), 2))\(fraction)"
    }

    /// Offsets with half hours, the extremes, and seconds.
    static func offset(_ rng: inout SplitMix64) -> String {
        rng.pick(["+00", "+05:30", "-03:30", "+14", "-12", "+01", "-09:30", "+05:45", "+00:00:30"])
    }

    static func timestamp(_ rng: inout SplitMix64) -> String {
        if rng.chance(8) { return rng.pick(["infinity", "-infinity"]) }
        let day = date(&rng)
        guard !day.hasSuffix("infinity") else { return day }
        if day.hasSuffix(" BC") { return day.dropLast(3) + " " + time(&rng).replacingOccurrences(of: "24:00:00", with: "12:00:00") + " BC" }
        return day + " " + time(&rng).replacingOccurrences(of: "24:00:00", with: "12:00:00")
    }

    /// With an explicit offset; years around 1900 fall in local mean time in many zones,
    /// whose offsets have seconds in them.
    static func timestamptz(_ rng: inout SplitMix64) -> String {
        if rng.chance(15) { return rng.pick(["1890-01-01 00:00:00+00", "1900-06-01 12:34:56.5+00", "1970-01-01 00:00:00+00"]) }
        let stamp = timestamp(&rng)
        guard !stamp.hasSuffix("infinity") else { return stamp }
        if stamp.hasSuffix(" BC") { return stamp.dropLast(3) + offset(&rng) + " BC" }
        return stamp + offset(&rng)
    }

    /// In the `postgres` style the workload session parses with; mixed signs on purpose.
    static func interval(_ rng: inout SplitMix64) -> String {
        if rng.chance(10) { return rng.pick(["0", "1 mon", "30 days", "-1 day +02:00", "1 year -1 day", "-00:00:00.000001"]) }
        var parts: [String] = []
        func sign() -> String { rng.chance(30) ? "-" : "" }
        if rng.chance(40) { parts.append("\(sign())\(rng.int(1...200)) years") }
        if rng.chance(40) { parts.append("\(sign())\(rng.int(1...11)) mons") }
        if rng.chance(50) { parts.append("\(sign())\(rng.int(1...40)) days") }
        if parts.isEmpty || rng.chance(60) { parts.append(sign() + time(&rng).replacingOccurrences(of: "24:00:00", with: "23:00:00")) }
        return parts.joined(separator: " ")
    }

    static func uuid(_ rng: inout SplitMix64) -> String {
        let digits = hex(rng.bytes(16))
        let d = Array(digits)
        return [d[0..<8], d[8..<12], d[12..<16], d[16..<20], d[20..<32]].map { String($0) }.joined(separator: "-")
    }

    static func inet(_ rng: inout SplitMix64) -> String {
        switch rng.below(6) {
        case 0: return rng.pick(["::1", "::ffff:1.2.3.4", "2001:db8::1/64", "2001:db8::/48"])
        case 1: return "\(rng.below(256)).\(rng.below(256)).\(rng.below(256)).\(rng.below(256))/32"
        case 2: return "\(rng.below(256)).\(rng.below(256)).\(rng.below(256)).\(rng.below(256))/\(rng.int(0...31))"
        default: return "\(rng.below(256)).\(rng.below(256)).\(rng.below(256)).\(rng.below(256))"
        }
    }

    static func cidr(_ rng: inout SplitMix64) -> String {
        if rng.chance(20) { return rng.pick(["2001:db8::/32", "::/0", "::1/128"]) }
        let bits = rng.int(0...32)
        let address = UInt32(truncatingIfNeeded: rng.next()) & (bits == 0 ? 0 : ~UInt32(0) << (32 - bits))
        return "\(address >> 24).\((address >> 16) & 255).\((address >> 8) & 255).\(address & 255)/\(bits)"
    }

    static func mac(_ rng: inout SplitMix64, bytes: Int) -> String {
        rng.bytes(bytes).map { hex([$0]) }.joined(separator: ":")
    }

    static func bits(_ rng: inout SplitMix64, _ count: Int) -> String {
        String((0..<count).map { _ in rng.chance(50) ? Character("1") : Character("0") })
    }

    /// A JSON document: keys and strings with escapes, numbers jsonb keeps exactly, duplicate
    /// keys (json keeps both, jsonb the last) and, for json, the original whitespace.
    static func json(_ rng: inout SplitMix64, depth: Int = 0) -> String {
        let space = rng.chance(30) ? rng.pick(["  ", "\n", "\t", " "]) : ""
        switch depth > 2 ? rng.below(4) : rng.below(6) {
        case 0: return rng.pick(["null", "true", "false"])
        case 1: return rng.pick(["0.30000000000000004", "-0", "1e400", "12345678901234567890.5", "1E-7", "-1.50"])
        case 2, 3: return jsonString(&rng)
        case 4:
            return "[" + space + (0..<rng.below(4)).map { _ in json(&rng, depth: depth + 1) }.joined(separator: "," + space) + "]"
        default:
            let keys = (0..<rng.below(4)).map { _ in jsonString(&rng) }
            let members = (keys + (rng.chance(20) && !keys.isEmpty ? [keys[0]] : [])).map { "\($0)\(space):\(space)\(json(&rng, depth: depth + 1))" }
            return "{" + space + members.joined(separator: "," + space) + "}"
        }
    }

    static func jsonString(_ rng: inout SplitMix64) -> String {
        let pieces = ["\\\"", "\\\\", "\\n", "\\t", "\\u00e9", "ü", "'", "a", "key", " ", "\\/", "🙂", "\\ud83d\\ude42"]
        return "\"" + (0..<rng.below(4)).map { _ in rng.pick(pieces) }.joined() + "\""
    }

    static func xml(_ rng: inout SplitMix64) -> String {
        rng.pick(["<a b=\"1\">x &amp; y &lt; z</a>", "plain text", "", "<r><e/>  <e>ü</e></r>", "t<b/>t",
                  "<?xml version=\"1.0\"?><doc/>", "<q>'\"\\N\t</q>", "<![CDATA[<not a tag>]]>", "<a xmlns=\"urn:x\"/>"])
    }

    static func pointNumber(_ rng: inout SplitMix64) -> String {
        rng.chance(40) ? rng.pick(["0.30000000000000004", "-0", "1e-300", "Infinity", "NaN", "-1.5"]) : String(rng.int(-1000...1000))
    }

    /// Numbers a geometry accepts anywhere (finite: a box or polygon with NaN is not the point).
    static func finiteNumber(_ rng: inout SplitMix64) -> String {
        rng.chance(40) ? rng.pick(["0.30000000000000004", "-0", "1e-300", "-1.5", "0.1"]) : String(rng.int(-1000...1000))
    }

    static func point(_ rng: inout SplitMix64) -> String { "(\(pointNumber(&rng)),\(pointNumber(&rng)))" }

    static func finitePoint(_ rng: inout SplitMix64) -> String { "(\(finiteNumber(&rng)),\(finiteNumber(&rng)))" }
}
