import TestSupport

/// The types random schemas are built from. Types a table defines for itself (enum,
/// composite, domain, range) are named after the table, so a table can be dropped from a case
/// with everything it needs.
enum TypeCatalogue {
    static func types(for prefix: String, _ rng: inout SplitMix64) -> [ColumnType] {
        let scalars = baseTypes(&rng) + userTypes(prefix)
        let arrays = scalars.filter(\.arrayable).flatMap { arrayTypes(of: $0) }
        return scalars + arrays
    }

    static let integerDouble: (expression: @Sendable (String) -> String, type: String) = ({ "(\($0)::numeric * 2)" }, "numeric")
    static let textLength: (expression: @Sendable (String) -> String, type: String) = ({ "length(\($0))" }, "integer")

    private static func baseTypes(_ rng: inout SplitMix64) -> [ColumnType] {
        let precision = rng.int(1...20)
        let scale = rng.int(0...min(precision, 6))
        let charLength = rng.int(1...8)
        let varcharLength = rng.int(1...30)
        let keyPrefix = rng.pick(["k", "k'\\ ü ", "Key \"n\" ", "\\N", "", "\t"])
        let bitLength = rng.int(1...10)
        return [
            ColumnType(features: [.boolean], sql: "boolean", equality: true, value: { rng in rng.pick(["true", "false"]) }, arrayable: true),
            ColumnType(features: [.smallint], sql: "smallint", equality: true,
                       value: { rng in Literal.typed(rng.chance(30) ? rng.pick(["-32768", "32767", "0"]) : String(rng.int(-999...999)), "smallint") },
                       key: { Literal.typed(String($0 % 32767), "smallint") }, generated: integerDouble),
            ColumnType(features: [.integer], sql: "integer", equality: true,
                       value: { rng in Literal.typed(rng.chance(20) ? rng.pick(["-2147483648", "2147483647"]) : String(rng.int(-100_000...100_000)), "integer") },
                       key: { Literal.typed(String($0), "integer") }, generated: integerDouble, arrayable: true),
            ColumnType(features: [.bigint], sql: "bigint", equality: true,
                       value: { rng in Literal.typed(rng.chance(20) ? rng.pick(["-9223372036854775808", "9223372036854775807"]) : String(Int64(bitPattern: rng.next()) >> rng.int(0...62)), "bigint") },
                       key: { Literal.typed(String(1_000_000_000_000 + $0), "bigint") }, generated: integerDouble),
            ColumnType(features: [.numeric], sql: "numeric(\(precision),\(scale))", equality: true,
                       value: { rng in Literal.typed(rng.chance(10) ? "NaN" : constrainedNumeric(&rng, precision, scale), "numeric") },
                       generated: integerDouble),
            ColumnType(features: [.numeric], sql: "numeric", equality: true,
                       value: { rng in Literal.typed(rng.pick(["NaN", "Infinity", "-Infinity", "0.30000000000000004", "1.500", "-0.000",
                                                               "123456789012345678901234567890.123456789", "1e-40", "0"]), "numeric") },
                       key: { Literal.typed("\($0).50", "numeric") }, generated: integerDouble, arrayable: true),
            ColumnType(features: [.float4], sql: "real", equality: true, value: { rng in Literal.typed(Literal.float4(&rng), "real") }),
            ColumnType(features: [.float8], sql: "double precision", equality: true,
                       value: { rng in Literal.typed(Literal.float8(&rng), "double precision") },
                       key: { Literal.typed("\($0).25", "double precision") }, arrayable: true),
            ColumnType(features: [.char], sql: "char(\(charLength))", equality: true,
                       value: { rng in Literal.typed(Literal.text(&rng, limit: charLength), "char(\(charLength))") }, arrayable: charLength == 3),
            ColumnType(features: [.char], sql: "char(12)", equality: true,
                       value: { rng in Literal.typed(Literal.text(&rng, limit: 12), "char(12)") },
                       key: { Literal.typed(String((keyPrefix + String($0)).unicodeScalars.suffix(12)), "char(12)") }, generated: textLength),
            ColumnType(features: [.varchar], sql: "varchar(\(varcharLength))", equality: true,
                       value: { rng in Literal.typed(Literal.text(&rng, limit: varcharLength), "varchar") }, generated: textLength),
            ColumnType(features: [.text], sql: "text", equality: true,
                       value: { rng in Literal.typed(Literal.text(&rng), "text") },
                       key: { Literal.typed(keyPrefix + String($0), "text") }, generated: textLength, arrayable: true),
            ColumnType(features: [.citext], sql: "citext", equality: true, setup: ["CREATE EXTENSION IF NOT EXISTS citext"],
                       value: { rng in Literal.typed(rng.pick(["Abc", "aBC", "ÜNÏ", "ünï", ""]) + Literal.text(&rng, limit: 10), "citext") },
                       key: { Literal.typed(($0 % 2 == 0 ? "Key-" : "kEY-") + String($0), "citext") }, generated: textLength),
            ColumnType(features: [.bytea], sql: "bytea", equality: true,
                       value: { rng in
                           let bytes = rng.chance(20) ? [0, 0x5c, 0x27, 0x0a, 0xff, 0x22] : rng.bytes(rng.below(20))
                           return Literal.typed("\\x" + Literal.hex(bytes), "bytea")
                       },
                       key: { Literal.typed("\\x00" + Literal.hex([UInt8($0 >> 16 & 255), UInt8($0 >> 8 & 255), UInt8($0 & 255)]) + "5c", "bytea") },
                       generated: textLength, arrayable: true),
            ColumnType(features: [.date], sql: "date", equality: true, value: { rng in Literal.typed(Literal.date(&rng), "date") },
                       key: { "('2000-01-01'::date + \($0))" }, arrayable: true),
            ColumnType(features: [.time], sql: "time", equality: true, value: { rng in Literal.typed(Literal.time(&rng), "time") }),
            ColumnType(features: [.timetz], sql: "timetz", equality: true,
                       value: { rng in Literal.typed(Literal.time(&rng) + Literal.offset(&rng), "timetz") }),
            ColumnType(features: [.timestamp], sql: "timestamp(\(rng.int(0...6)))", equality: true,
                       value: { rng in Literal.typed(Literal.timestamp(&rng), "timestamp") },
                       key: { "('2000-01-01 00:00:00'::timestamp + \($0) * interval '1 hour 1 second')" }),
            ColumnType(features: [.timestamptz], sql: "timestamptz", equality: true,
                       value: { rng in Literal.typed(Literal.timestamptz(&rng), "timestamptz") },
                       key: { "('2024-03-04 05:06:07.891+05:30'::timestamptz + \($0) * interval '1 day 0.5 second')" }, arrayable: true),
            ColumnType(features: [.interval], sql: "interval", equality: true, value: { rng in Literal.typed(Literal.interval(&rng), "interval") },
                       key: { Literal.typed("\($0) minutes 0.5 seconds", "interval") }, arrayable: true),
            ColumnType(features: [.uuid], sql: "uuid", equality: true, value: { rng in Literal.typed(Literal.uuid(&rng), "uuid") },
                       key: { Literal.typed("00000000-0000-4000-8000-" + Literal.padded($0, 12), "uuid") }),
            ColumnType(features: [.inet], sql: "inet", equality: true, value: { rng in Literal.typed(Literal.inet(&rng), "inet") },
                       key: { Literal.typed("10.\($0 >> 16 & 255).\($0 >> 8 & 255).\($0 & 255)" + ($0 % 2 == 0 ? "/32" : ""), "inet") },
                       arrayable: true),
            ColumnType(features: [.cidr], sql: "cidr", equality: true, value: { rng in Literal.typed(Literal.cidr(&rng), "cidr") }),
            ColumnType(features: [.macaddr], sql: "macaddr", equality: true, value: { rng in Literal.typed(Literal.mac(&rng, bytes: 6), "macaddr") }),
            ColumnType(features: [.macaddr8], sql: "macaddr8", equality: true, value: { rng in Literal.typed(Literal.mac(&rng, bytes: 8), "macaddr8") }),
            ColumnType(features: [.money], sql: "money", equality: true,
                       value: { rng in Literal.typed(rng.pick(["0", "-1234.56", "0.01", "92233720368547758.07", "12.345"]), "money") }),
            ColumnType(features: [.bit], sql: "bit(\(bitLength))", equality: true,
                       value: { rng in Literal.typed(Literal.bits(&rng, bitLength), "bit(\(bitLength))") }),
            ColumnType(features: [.varbit], sql: "varbit(20)", equality: true,
                       value: { rng in Literal.typed(Literal.bits(&rng, rng.below(21)), "varbit") }),
            ColumnType(features: [.tsvector], sql: "tsvector", equality: true,
                       value: { rng in Literal.typed(rng.pick(["", "a fat cat", "fat:2,4A cat:3B rat:5C", "'it''s' 'a b':1", "ünï:1 x"]), "tsvector") }),
            ColumnType(features: [.tsquery], sql: "tsquery", equality: true,
                       value: { rng in Literal.typed(rng.pick(["fat & (rat | cat)", "!a <-> b:*", "'x y'", "ünï"]), "tsquery") }),
            ColumnType(features: [.jsonb], sql: "jsonb", equality: true, value: { rng in Literal.typed(Literal.json(&rng), "jsonb") },
                       key: { Literal.typed("{\"k\": \($0), \"s\": \"\\\"'\"}", "jsonb") }, generated: ({ "(\($0) -> 'k')" }, "jsonb"),
                       arrayable: true),
            ColumnType(features: [.pgLsn], sql: "pg_lsn", equality: true,
                       value: { rng in Literal.typed("\(String(rng.below(256), radix: 16, uppercase: true))/\(String(rng.next() & 0xFFFF_FFFF, radix: 16, uppercase: true))", "pg_lsn") }),
            ColumnType(features: [.hstore], sql: "hstore", equality: true, setup: ["CREATE EXTENSION IF NOT EXISTS hstore"],
                       value: { rng in Literal.typed(hstore(&rng), "hstore") }),
            ColumnType(features: [.json], sql: "json", equality: false, value: { rng in Literal.typed(Literal.json(&rng), "json") }, arrayable: true),
            ColumnType(features: [.xml], sql: "xml", equality: false, value: { rng in Literal.typed(Literal.xml(&rng), "xml") }),
            ColumnType(features: [.point], sql: "point", equality: false, value: { rng in Literal.typed(Literal.point(&rng), "point") }, arrayable: true),
            ColumnType(features: [.box], sql: "box", equality: false,
                       value: { rng in Literal.typed("\(Literal.finitePoint(&rng)),\(Literal.finitePoint(&rng))", "box") }),
            ColumnType(features: [.lseg], sql: "lseg", equality: false,
                       value: { rng in Literal.typed("[\(Literal.finitePoint(&rng)),\(Literal.finitePoint(&rng))]", "lseg") }),
            ColumnType(features: [.line], sql: "line", equality: false,
                       value: { rng in Literal.typed("{\(rng.int(1...9)),\(Literal.finiteNumber(&rng)),\(Literal.finiteNumber(&rng))}", "line") }),
            ColumnType(features: [.path], sql: "path", equality: false,
                       value: { rng in
                           let points = (0..<rng.int(1...4)).map { _ in Literal.finitePoint(&rng) }.joined(separator: ",")
                           return Literal.typed(rng.chance(50) ? "[\(points)]" : "(\(points))", "path")
                       }),
            ColumnType(features: [.polygon], sql: "polygon", equality: false,
                       value: { rng in Literal.typed("(" + (0..<rng.int(1...4)).map { _ in Literal.finitePoint(&rng) }.joined(separator: ",") + ")", "polygon") }),
            ColumnType(features: [.circle], sql: "circle", equality: false,
                       value: { rng in Literal.typed("<\(Literal.finitePoint(&rng)),\(rng.pick(["0", "1.5", "0.30000000000000004", "1e-300"]))>", "circle") }),
        ]
    }

    private static func constrainedNumeric(_ rng: inout SplitMix64, _ precision: Int, _ scale: Int) -> String {
        let whole = String(repeating: "9", count: precision - scale)
        let digits = (0..<(precision - scale)).map { _ in String(rng.below(10)) }.joined()
        let fraction = (0..<scale).map { _ in String(rng.below(10)) }.joined()
        let integerPart = rng.chance(20) ? (whole.isEmpty ? "0" : whole) : (digits.isEmpty ? "0" : digits)
        return (rng.chance(30) ? "-" : "") + integerPart + (fraction.isEmpty ? "" : "." + fraction)
    }

    private static func hstore(_ rng: inout SplitMix64) -> String {
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return (0..<rng.below(4)).map { _ in
            quoted(Literal.text(&rng, limit: 8)) + "=>" + (rng.chance(20) ? "NULL" : quoted(Literal.text(&rng, limit: 8)))
        }.joined(separator: ", ")
    }

    /// An enum, a composite, two domains and a range type of the table's own.
    private static func userTypes(_ prefix: String) -> [ColumnType] {
        let mood = "\(prefix)_mood", pair = "\(prefix)_pair", positive = "\(prefix)_positive", code = "\(prefix)_code"
        let floats = "\(prefix)_floatrange"
        let labels = ["sad", "ok", "happy ü", "it's", "with space", "NULL", "", "\"q\""]
        return [
            ColumnType(features: [.enumType], sql: mood, equality: true,
                       setup: ["CREATE TYPE \(mood) AS ENUM (\(labels.map(Literal.quoted).joined(separator: ", ")))"],
                       value: { rng in Literal.typed(rng.pick(labels), mood) }, arrayable: true),
            ColumnType(features: [.composite], sql: pair, equality: true,
                       setup: ["CREATE TYPE \(pair) AS (label text, n integer, flag boolean, ratio double precision, day date)"],
                       value: { rng in
                           if rng.chance(10) { return "ROW(NULL, NULL, NULL, NULL, NULL)::\(pair)" }
                           func maybe(_ literal: String, _ rng: inout SplitMix64) -> String { rng.chance(20) ? "NULL" : literal }
                           let label = maybe(Literal.typed(Literal.text(&rng), "text"), &rng)
                           let n = maybe(String(rng.int(-5...5)), &rng)
                           let flag = maybe(rng.pick(["true", "false"]), &rng)
                           let ratio = maybe(Literal.typed(Literal.float8(&rng), "double precision"), &rng)
                           let day = maybe(Literal.typed(Literal.date(&rng), "date"), &rng)
                           return "ROW(\(label), \(n), \(flag), \(ratio), \(day))::\(pair)"
                       },
                       key: { "ROW('k''(,)\"' || \($0), \($0), true, NULL, NULL)::\(pair)" }, arrayable: true),
            ColumnType(features: [.domain], sql: positive, equality: true, setup: ["CREATE DOMAIN \(positive) AS integer CHECK (VALUE > 0)"],
                       value: { rng in Literal.typed(String(rng.int(1...1_000_000)), positive) },
                       key: { Literal.typed(String($0 + 1), positive) }, generated: integerDouble),
            ColumnType(features: [.domain], sql: code, equality: true,
                       setup: ["CREATE DOMAIN \(code) AS varchar(12) CHECK (VALUE <> 'forbidden')"],
                       value: { rng in Literal.typed(Literal.text(&rng, limit: 12), code) }),
            ColumnType(features: [.range], sql: floats, equality: true, setup: ["CREATE TYPE \(floats) AS RANGE (subtype = double precision)"],
                       value: { rng in Literal.typed(range(&rng, Literal.float8Hazards.filter { $0 != "NaN" }.sorted { Double($0)! < Double($1)! }), floats) }),
            ColumnType(features: [.range], sql: "int4range", equality: true,
                       value: { rng in Literal.typed(range(&rng, ["-2147483648", "-5", "0", "1", "7", "1000", "2147483646"]), "int4range") },
                       key: { Literal.typed("[\($0),\($0 + 1)]", "int4range") }),
            ColumnType(features: [.range], sql: "numrange", equality: true,
                       value: { rng in Literal.typed(range(&rng, ["-1e-40", "0", "0.30000000000000004", "1.500", "99999999999999999999"]), "numrange") }),
            ColumnType(features: [.range], sql: "daterange", equality: true,
                       value: { rng in Literal.typed(range(&rng, ["0044-03-15 BC", "2024-02-13", "2024-03-04", "2024-12-31"]), "daterange") }),
            ColumnType(features: [.range], sql: "tstzrange", equality: true,
                       value: { rng in Literal.typed(range(&rng, ["1890-01-01 00:00:00+00", "2024-03-04 05:06:07.891+05:30", "2024-03-04 23:00:00-03:30"]), "tstzrange") }),
            ColumnType(features: [.range], sql: "tsrange", equality: true,
                       value: { rng in Literal.typed(range(&rng, ["2000-01-01 00:00:00", "2024-03-04 05:06:07.5", "2024-12-31 23:59:59"]), "tsrange") }),
            ColumnType(features: [.multirange], sql: "int4multirange", equality: true,
                       value: { rng in Literal.typed(rng.pick(["{}", "{[1,3),[5,7)}", "{(,0],[10,)}", "{[-5,-5]}"]), "int4multirange") }),
            ColumnType(features: [.multirange], sql: "datemultirange", equality: true,
                       value: { rng in Literal.typed(rng.pick(["{}", "{[2024-03-04,2024-04-03)}", "{[2024-02-13,infinity)}"]), "datemultirange") }),
        ]
    }

    /// A range over ascending bounds: empty, unbounded sides, every bracket.
    private static func range(_ rng: inout SplitMix64, _ bounds: [String]) -> String {
        if rng.chance(10) { return "empty" }
        let i = rng.below(bounds.count), j = rng.below(bounds.count)
        let lower = rng.chance(15) ? "" : "\"\(bounds[min(i, j)])\""
        let upper = rng.chance(15) ? "" : "\"\(bounds[max(i, j)])\""
        return rng.pick(["[", "("]) + lower + "," + upper + rng.pick(["]", ")"])
    }

    /// One- and two-dimensional arrays with NULLs, and arrays whose lower bound is not 1.
    private static func arrayTypes(of element: ColumnType) -> [ColumnType] {
        let arraySQL = element.sql + "[]"
        @Sendable func item(_ rng: inout SplitMix64) -> String { rng.chance(20) ? "NULL::\(element.sql)" : element.value(&rng) }
        var types = [
            ColumnType(features: element.features.union([.array]), sql: arraySQL, equality: element.equality, setup: element.setup,
                       value: { rng in
                           if rng.chance(10) { return "'{}'::\(arraySQL)" }
                           return "ARRAY[" + (0..<rng.int(1...4)).map { _ in item(&rng) }.joined(separator: ", ") + "]::\(arraySQL)"
                       }),
            ColumnType(features: element.features.union([.arrayMultidim]), sql: arraySQL, equality: element.equality, setup: element.setup,
                       value: { rng in
                           let width = rng.int(1...3)
                           let rows = (0..<rng.int(1...3)).map { _ in "ARRAY[" + (0..<width).map { _ in item(&rng) }.joined(separator: ", ") + "]" }
                           return "ARRAY[" + rows.joined(separator: ", ") + "]::\(arraySQL)"
                       }),
        ]
        // The text form with explicit bounds, built here for text elements: array quoting too.
        if element.sql == "text" {
            types.append(ColumnType(features: [.text, .arrayBounds], sql: arraySQL, equality: true, value: { rng in
                let lower = rng.int(-3...3)
                let items = (0..<rng.int(1...3)).map { _ in
                    rng.chance(20) ? "NULL" : "\"" + Literal.text(&rng).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
                }
                return Literal.typed("[\(lower):\(lower + items.count - 1)]={\(items.joined(separator: ","))}", arraySQL)
            }))
        }
        return types
    }
}
