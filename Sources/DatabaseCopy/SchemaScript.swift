import OperatorErrors
import PostgresTypes
import SnapshotFormat
import SnapshotObjects
import SnapshotStore

/// A pg_dump schema section from the store, checked against the manifest before it is used.
public struct SchemaScript: Sendable {
    public let sql: String

    /// pg_dump's plain output, ready to send through libpq.
    public init(dumped sql: String) {
        self.sql = Self.withoutRestrictGuards(sql)
    }

    /// Blocking. Reads no more than the manifest's size: a hostile store could hold anything.
    public static func read(_ file: Manifest.StoredFile, from store: any SnapshotStore) throws -> SchemaScript {
        var bytes: [UInt8] = []
        do {
            let reader = try StoredObjectReader(file.path, in: store, bytes: file.bytes, sha256: file.sha256, codec: nil)
            while try reader.read(into: &bytes, limit: 1 << 20) {
                guard reader.storedBytes <= file.bytes else {
                    throw StoredObjectMismatch(path: file.path, storedBytes: reader.storedBytes, expectedBytes: file.bytes, sha256: "")
                }
            }
        } catch let error as StoredObjectMismatch {
            throw error.damaged(detailed: false)
        }
        return SchemaScript(dumped: String(decoding: bytes, as: UTF8.self))
    }

    /// pg_dump 15.14 and later (CVE-2025-8714) wraps its output in `\restrict KEY` …
    /// `\unrestrict KEY`, which tell psql to refuse meta-commands in between. This SQL goes to
    /// the server through libpq, which interprets no meta-commands at all, so the guard lines
    /// (and only they, matched by their key) are dropped; any other backslash line stays and
    /// fails loudly as the syntax error it would be.
    static func withoutRestrictGuards(_ sql: String) -> String {
        var lines = sql.split(separator: "\n", omittingEmptySubsequences: false)
        guard let opening = lines.firstIndex(where: { $0.hasPrefix("\\restrict ") }) else { return sql }
        let key = lines[opening].dropFirst("\\restrict ".count)
        lines.remove(at: opening)
        lines.removeAll { $0 == "\\unrestrict \(key)" }
        return lines.joined(separator: "\n")
    }

    /// One TOC entry of pg_dump's plain output: `--` / `-- Name: …; Type: INDEX; …` up to the next.
    struct Entry: Equatable, Sendable {
        let type: String
        let sql: String
    }

    /// The script cut into its preamble (the `SET`s every session needs) and its entries.
    /// No entry headers (not pg_dump output) means one entry of unknown type: run as a whole.
    var entries: (preamble: String, entries: [Entry]) {
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false)
        let starts = lines.indices.filter { $0 > 0 && lines[$0].hasPrefix("-- Name: ") && lines[$0 - 1] == "--" }.map { $0 - 1 }
        guard let first = starts.first else { return ("", [Entry(type: "", sql: sql)]) }
        let entries = zip(starts, starts.dropFirst() + [lines.endIndex]).map { start, end in
            let header = lines[start + 1]
            let type = header.firstMatch(of: #/; Type: ([^;]+); /#).map { String($0.1) } ?? ""
            return Entry(type: type, sql: lines[start..<end].joined(separator: "\n"))
        }
        return (lines[..<first].joined(separator: "\n"), entries)
    }

    /// The extensions the script creates (`CREATE EXTENSION IF NOT EXISTS name …`).
    public var extensions: [String] {
        // Built once, not per line: a Regex parses its literal again each time it is made.
        let pattern = #/^CREATE EXTENSION IF NOT EXISTS ("(?:[^"]|"")+"|[^\s;]+)/#.matchingSemantics(.unicodeScalar)
        return sql.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("CREATE EXTENSION"), let match = line.firstMatch(of: pattern) else { return nil }
            let name = String(match.1)
            let scalars = name.unicodeScalars
            guard scalars.count >= 2, scalars.first == "\"" else { return name }
            return String(String.UnicodeScalarView(scalars.dropFirst().dropLast())).replacingScalars("\"\"", with: "\"")
        }
    }
}
