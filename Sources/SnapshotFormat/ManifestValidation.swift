import StoreKeys

/// What a manifest read from a store must satisfy before anything acts on it. A store is
/// outside continuity's control (a damaged object, a hand-edited file, someone else's bucket),
/// so nothing in a manifest is trusted: every object path stays inside the snapshot's own
/// directory, every column is a quoted or plain identifier (they reach COPY as SQL), every
/// count is non-negative and the totals fit in 64 bits (so no arithmetic on them can trap).
public struct ManifestProblem: Error, Equatable, CustomStringConvertible {
    public let description: String
}

extension Manifest {
    public func validate() throws(ManifestProblem) {
        let directory = SnapshotLayout(stack: stack, id: id).directory + "/"
        do {
            try SnapshotLayout.validate(stack: stack)
        } catch {
            throw ManifestProblem(description: "its stack name '\(stack)' is not usable")
        }
        for file in [schema.preData, schema.postData] {
            try Self.check(path: file.path, inside: directory)
            try Self.check(count: file.bytes, "bytes", of: file.path)
        }
        for table in tables {
            let name = "table \(table.schema).\(table.name)"
            try Self.check(name: table.schema, of: name)
            try Self.check(name: table.name, of: name)
            try Self.check(count: table.rows, "rows", of: name)
            for column in table.columns where !Self.isQuotedIdentifier(column) {
                throw ManifestProblem(description: "\(name) has a column \(column.debugDescription) that is not an identifier")
            }
            for part in table.parts {
                try Self.check(path: part.path, inside: directory)
                guard part.index >= 0 else { throw ManifestProblem(description: "part \(part.path) has a negative index") }
                for (value, field) in [(part.rows, "rows"), (part.rawBytes, "raw_bytes"), (part.storedBytes, "stored_bytes")] {
                    try Self.check(count: value, field, of: part.path)
                }
            }
        }
        if let largeObjects {
            try Self.check(count: largeObjects.count, "count", of: "large_objects")
            for part in [largeObjects.metadata, largeObjects.data] {
                try Self.check(path: part.path, inside: directory)
                for (value, field) in [(part.rows, "rows"), (part.rawBytes, "raw_bytes"), (part.storedBytes, "stored_bytes")] {
                    try Self.check(count: value, field, of: part.path)
                }
            }
        }
        for relation in sequences.map({ Relation(schema: $0.schema, name: $0.name) }) + materializedViews {
            try Self.check(name: relation.schema, of: "\(relation.schema).\(relation.name)")
            try Self.check(name: relation.name, of: "\(relation.schema).\(relation.name)")
        }
        // One object listed twice would be loaded twice: its rows restored in double.
        var seen: Set<String> = []
        let paths = [schema.preData.path, schema.postData.path] + tables.flatMap { $0.parts.map(\.path) }
            + (largeObjects.map { [$0.metadata.path, $0.data.path] } ?? [])
        for path in paths where !seen.insert(path).inserted {
            throw ManifestProblem(description: "it lists the object \(path) more than once")
        }
        // `totals` sums these; each sum must fit, or reading the totals would trap.
        let parts = tables.flatMap(\.parts)
        let sums: [(String, [Int64])] = [
            ("rows", tables.map(\.rows)), ("raw_bytes", parts.map(\.rawBytes)),
            ("stored_bytes", parts.map(\.storedBytes) + [schema.preData.bytes, schema.postData.bytes]
                + (largeObjects.map { [$0.metadata.storedBytes, $0.data.storedBytes] } ?? [])),
        ]
        for (field, values) in sums {
            var total: Int64 = 0
            for value in values {
                let (sum, overflow) = total.addingReportingOverflow(value)
                guard !overflow else { throw ManifestProblem(description: "its \(field) add up to more than 64 bits hold") }
                total = sum
            }
        }
    }

    /// Paths this continuity writes are `<stack>/<id>/` then `schema/…` or `data/…`, in plain
    /// characters. Anything else (`..`, an absolute path, another snapshot's object, a NUL) is
    /// refused rather than normalised: a manifest that names it was not written by us.
    static func check(path: String, inside directory: String) throws(ManifestProblem) {
        let rest = path.hasPrefix(directory) ? path.dropFirst(directory.count) : nil
        let segments = rest?.split(separator: "/", omittingEmptySubsequences: false) ?? []
        let plain = segments.count >= 2 && segments.allSatisfy { segment in
            !segment.isEmpty && segment != "." && segment != ".." && !ReservedMarkers.all.contains { segment.contains($0) }
                && segment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        }
        guard plain else {
            throw ManifestProblem(description: "it names the object \(path.debugDescription), which is outside the snapshot's directory \(directory)")
        }
    }

    static func check(count: Int64, _ field: String, of object: String) throws(ManifestProblem) {
        guard count >= 0 else { throw ManifestProblem(description: "\(object) has a negative \(field) (\(count))") }
    }

    /// Names go to the server quoted; a NUL would cut the statement short in libpq.
    static func check(name: String, of object: String) throws(ManifestProblem) {
        guard !name.isEmpty, !name.utf8.contains(0) else {
            throw ManifestProblem(description: "\(object) has an empty name or one with a NUL character")
        }
    }

    /// Columns are stored as `format('%I')` wrote them: a plain lower-case name, or a
    /// double-quoted one with its quotes doubled. Either is safe to place in SQL as it is.
    static func isQuotedIdentifier(_ column: String) -> Bool {
        column.wholeMatch(of: #/[a-z_][a-z0-9_]*/#) != nil || column.wholeMatch(of: #/"(?:[^"\x00]|"")+"/#) != nil
    }
}
