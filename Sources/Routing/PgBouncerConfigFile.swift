import Foundation
import OperatorErrors

/// PgBouncer's ini files, pure: text in, text out (files are read through a function given
/// in, so every rule is testable without a disk or a server).
///
/// Read as PgBouncer reads them: `[section]` headers (any case), `;` and `#` comment lines,
/// `key = value` with spaces allowed around `=`, database names optionally in double quotes,
/// `%include FILE` read in place (the section carries on into and out of the included file; a
/// later line for the same database overrides an earlier one). One difference, chosen: PgBouncer
/// (1.18, tried) resolves a relative `%include` against its own working directory, which we
/// cannot know; we resolve it against the including file's directory, where such files live in
/// practice. Should that be a different file, the router's preflight finds PgBouncer running a
/// line the file does not have, and its reload finds the database not pointing at the target.
/// Values are connect strings: `key=value` pairs, values
/// optionally in single quotes (`''` for a quote); keys are case-sensitive, as PgBouncer
/// compares them.
public enum PgBouncerConfigFile {
    /// A database's line, where it is and where it points.
    public struct DatabaseLine: Sendable, Equatable {
        public let file: String
        /// 1-based, as editors count.
        public let lineNumber: Int
        public let name: String
        /// nil when the line sets no host (PgBouncer then uses its Unix socket directory).
        public let host: String?
        public let port: Int?
        public let dbname: String

        /// "file:line".
        public var location: String { "\(file):\(lineNumber)" }

        public func points(at node: RouterNode) -> Bool {
            host == node.host && port == node.port && dbname == node.dbname
        }
    }

    /// Finds the line defining `database` under `[databases]`, starting at `path` and
    /// following `%include`. Throws a `Refusal` when there is none (naming the `*` wildcard if
    /// that is what serves the database), or `Failure` when a file cannot be read.
    public static func locate(database: String, in path: String,
                              read: (String) throws -> String) throws -> DatabaseLine {
        var scan = Scan(database: database)
        try scan.visit(path, read: read, depth: 0)
        if let found = scan.found { return found }
        if let wildcard = scan.wildcard {
            throw Refusal("PgBouncer serves database \(database) only through the wildcard line '*' at \(wildcard)",
                          fix: "add an explicit line '\(database) = host=… port=… dbname=…' under [databases], RELOAD, and retry")
        }
        throw Refusal("no line for database \(database) under [databases] in \(path) or the files it includes",
                      fix: "add '\(database) = host=… port=… dbname=…' under [databases], RELOAD, or give --pgbouncer-database")
    }

    /// `text` with line `lineNumber` (1-based; a database line) pointing at `node`: only the
    /// values of host, port and dbname change (added at the end when missing); every other
    /// byte of the file, and of the line, stays as it was.
    public static func rewrite(_ text: String, lineNumber: Int, to node: RouterNode) throws -> String {
        var lines = splitLines(text)
        guard lineNumber >= 1, lineNumber <= lines.count,
              case .setting(_, let valueStart) = parse(lines[lineNumber - 1]) else {
            throw Failure("line \(lineNumber) of the PgBouncer config is not a database line any more",
                          fix: "the file changed under us: check it and retry")
        }
        var scalars = Array(lines[lineNumber - 1].unicodeScalars)
        let pairs = connectPairs(scalars, from: valueStart)
        // Replace from the right, so earlier offsets stay valid; then append what was missing.
        var missing: [(String, String)] = []
        let wanted = [("host", node.host), ("port", String(node.port)), ("dbname", node.dbname)]
        var replacements: [(Range<Int>, String)] = []
        for (key, value) in wanted {
            if let pair = pairs.last(where: { $0.key == key }) {
                replacements.append((pair.valueRange, quoteValue(value)))
            } else {
                missing.append((key, value))
            }
        }
        for (range, value) in replacements.sorted(by: { $0.0.lowerBound > $1.0.lowerBound }) {
            scalars.replaceSubrange(range, with: value.unicodeScalars)
        }
        if !missing.isEmpty {
            var end = scalars.count
            while end > valueStart, scalars[end - 1].properties.isWhitespace { end -= 1 }
            let added = missing.map { "\($0.0)=\(quoteValue($0.1))" }.joined(separator: " ")
            let separator = end > valueStart && !pairs.isEmpty ? " " : ""
            scalars.insert(contentsOf: (separator + added).unicodeScalars, at: end)
        }
        var line = String.UnicodeScalarView()
        line.append(contentsOf: scalars)
        lines[lineNumber - 1] = String(line)
        return lines.joined(separator: "\n")
    }

    // MARK: - Reading

    private struct Scan {
        let database: String
        var section: String?
        var found: DatabaseLine?
        var wildcard: String?

        init(database: String) { self.database = database }

        mutating func visit(_ path: String, read: (String) throws -> String, depth: Int) throws {
            guard depth < 16 else {
                throw Failure("PgBouncer's config includes itself (%include nested 16 deep at \(path))",
                              fix: "remove the %include loop")
            }
            let text: String
            do { text = try read(path) } catch {
                throw Failure("cannot read PgBouncer's config \(path): \(error)", fix: "check the path given with --pgbouncer-config and its permissions")
            }
            for (index, line) in splitLines(text).enumerated() {
                switch parse(line) {
                case .other: continue
                case .section(let name): section = name
                case .include(let target): try visit(resolve(target, from: path), read: read, depth: depth + 1)
                case .setting(let key, let valueStart):
                    guard section == "databases" else { continue }
                    let location = "\(path):\(index + 1)"
                    if key == "*" { wildcard = location }
                    guard key == database else { continue }
                    let pairs = connectPairs(Array(line.unicodeScalars), from: valueStart)
                    func value(_ key: String) -> String? { pairs.last(where: { $0.key == key })?.value }
                    // PgBouncer's defaults: port 5432, dbname the line's own name.
                    found = DatabaseLine(file: path, lineNumber: index + 1, name: key, host: value("host"),
                                         port: value("port").map { Int($0) } ?? 5432, dbname: value("dbname") ?? key)
                }
            }
        }
    }

    static func resolve(_ include: String, from file: String) -> String {
        if include.hasPrefix("/") { return include }
        guard let slash = file.lastIndex(of: "/") else { return include }
        return String(file[...slash]) + include
    }

    /// Lines split at "\n" only: a "\r" before it stays part of the line, so joining with
    /// "\n" gives back the same bytes.
    static func splitLines(_ text: String) -> [String] {
        text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(Substring($0)) }
    }

    enum Line: Equatable {
        case other
        case section(String)
        case include(String)
        /// A key (unquoted) and where its value starts, in unicode scalars from the line's start.
        case setting(key: String, valueStart: Int)
    }

    static func parse(_ line: String) -> Line {
        let scalars = Array(line.unicodeScalars)
        var index = skipSpace(scalars, 0)
        guard index < scalars.count else { return .other }
        switch scalars[index] {
        case ";", "#":
            return .other
        case "[":
            guard let close = scalars[index...].firstIndex(of: "]") else { return .other }
            return .section(String(String.UnicodeScalarView(scalars[(index + 1)..<close])).trimmed.lowercased())
        case "%":
            let rest = String(String.UnicodeScalarView(scalars[index...]))
            guard rest.hasPrefix("%include"), rest.dropFirst(8).first?.isWhitespace == true else { return .other }
            return .include(String(rest.dropFirst(8)).trimmed)
        default:
            break
        }
        var key = String.UnicodeScalarView()
        if scalars[index] == "\"" {
            index += 1
            while index < scalars.count {
                if scalars[index] == "\"" {
                    if index + 1 < scalars.count, scalars[index + 1] == "\"" { key.append("\""); index += 2; continue }
                    break
                }
                key.append(scalars[index])
                index += 1
            }
            guard index < scalars.count else { return .other }
            index += 1
        } else {
            while index < scalars.count, scalars[index] != "=", !scalars[index].properties.isWhitespace {
                key.append(scalars[index])
                index += 1
            }
        }
        index = skipSpace(scalars, index)
        guard index < scalars.count, scalars[index] == "=", !key.isEmpty else { return .other }
        return .setting(key: String(key), valueStart: skipSpace(scalars, index + 1))
    }

    struct Pair {
        let key: String
        let value: String
        /// The value as written, quotes included.
        let valueRange: Range<Int>
    }

    /// The `key=value` pairs of a connect string, as PgBouncer reads them; stops at the first
    /// thing it cannot read (PgBouncer would refuse such a line anyway).
    static func connectPairs(_ scalars: [Unicode.Scalar], from start: Int) -> [Pair] {
        var pairs: [Pair] = []
        var index = skipSpace(scalars, start)
        while index < scalars.count {
            var key = String.UnicodeScalarView()
            while index < scalars.count, scalars[index] != "=", scalars[index] != " ", scalars[index] != "\t" {
                key.append(scalars[index])
                index += 1
            }
            index = skipSpace(scalars, index)
            guard index < scalars.count, scalars[index] == "=", !key.isEmpty else { break }
            index = skipSpace(scalars, index + 1)
            let valueStart = index
            var value = String.UnicodeScalarView()
            if index < scalars.count, scalars[index] == "'" {
                index += 1
                var closed = false
                while index < scalars.count {
                    if scalars[index] == "'" {
                        if index + 1 < scalars.count, scalars[index + 1] == "'" { value.append("'"); index += 2; continue }
                        closed = true
                        index += 1
                        break
                    }
                    value.append(scalars[index])
                    index += 1
                }
                guard closed else { break }
            } else {
                while index < scalars.count, !scalars[index].properties.isWhitespace {
                    value.append(scalars[index])
                    index += 1
                }
            }
            pairs.append(Pair(key: String(key), value: String(value), valueRange: valueStart..<index))
            index = skipSpace(scalars, index)
        }
        return pairs
    }

    static func quoteValue(_ value: String) -> String {
        let plain = !value.isEmpty && !value.unicodeScalars.contains { $0 == "'" || $0.properties.isWhitespace }
        return plain ? value : "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    private static func skipSpace(_ scalars: [Unicode.Scalar], _ start: Int) -> Int {
        var index = start
        while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
        return index
    }
}

extension String {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
