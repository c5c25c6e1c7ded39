import PostgresClient
import PostgresTypes

/// One unit of the parallel part of post-data — an index or constraint entry of pg_dump's
/// script, or an ANALYZE — and the lock it takes on its table, so that steps whose locks
/// conflict are never started side by side (the later one would only wait, holding a session).
///
/// The locks, from PostgreSQL's lock table: CREATE INDEX takes SHARE, which several CREATE
/// INDEX on one table can hold together; ADD CONSTRAINT … PRIMARY KEY / UNIQUE / EXCLUDE takes
/// ACCESS EXCLUSIVE; ANALYZE takes SHARE UPDATE EXCLUSIVE, which conflicts with both and with
/// itself. pg_restore -j keeps such entries apart for the same reason.
struct PostDataStep: Sendable, Equatable {
    enum Access: Sendable, Equatable {
        /// Runs alongside other shared steps on the same table.
        case shared
        /// Runs alone on its table.
        case exclusive
    }

    let sql: String
    /// The table the step locks; nil when it cannot be told, and then the step runs alone.
    let relation: RelationKey?
    let access: Access
    /// ANALYZE waits until every other step on its table is done, so the statistics of
    /// expression indexes are gathered too.
    let runsLast: Bool
    /// The table's size: steps on bigger tables start first, as they take longest.
    let weight: Int64

    static func analyze(schema: String, name: String, weight: Int64) -> PostDataStep {
        PostDataStep(sql: "ANALYZE \(qualifiedName(schema, name))", relation: RelationKey(schema: schema, name: name),
                     access: .exclusive, runsLast: true, weight: weight)
    }

    /// An INDEX or CONSTRAINT entry of the dump. An entry that is one plain CREATE INDEX is
    /// shared; anything more (pg_dump appends `ALTER TABLE … CLUSTER ON` or `REPLICA
    /// IDENTITY USING INDEX` to the index entry, which need stronger locks) is exclusive,
    /// so two such entries can never deadlock on one table.
    static func entry(_ sql: String, weights: [RelationKey: Int64]) -> PostDataStep {
        let body = sql.split(separator: "\n").filter { !$0.hasPrefix("--") && !$0.allSatisfy(\.isWhitespace) }
            .joined(separator: "\n")
        let relation = RelationKey(lockedBy: body)
        let singleIndex = body.wholeMatch(of: #/CREATE (?:UNIQUE )?INDEX [^;]*;/#) != nil
        return PostDataStep(sql: sql, relation: relation, access: singleIndex && relation != nil ? .shared : .exclusive,
                            runsLast: false, weight: relation.flatMap { weights[$0] } ?? 0)
    }

    func conflicts(with other: PostDataStep) -> Bool {
        guard let relation, let otherRelation = other.relation else { return true }
        return relation == otherRelation && !(access == .shared && other.access == .shared)
    }
}

/// A table by its unquoted schema and name, however the SQL quoted it.
struct RelationKey: Hashable, Sendable {
    let schema: String
    let name: String

    init(schema: String, name: String) {
        self.schema = schema
        self.name = name
    }

    /// The table of `CREATE [UNIQUE] INDEX name ON [ONLY] schema.table …` or `ALTER TABLE
    /// [ONLY] schema.table …`, as pg_dump writes them (always schema-qualified).
    init?(lockedBy sql: String) {
        let pattern = #/(?:CREATE (?:UNIQUE )?INDEX (?:"(?:[^"]|"")+"|[^\s"(]+) ON |ALTER TABLE )(?:ONLY )?("(?:[^"]|"")+"|[^\s."(]+)\.("(?:[^"]|"")+"|[^\s."(;]+)/#
        // Scalar semantics: a quote followed by a combining mark is one Character with it.
        guard let match = sql.prefixMatch(of: pattern.matchingSemantics(.unicodeScalar)) else { return nil }
        self.init(schema: Self.unquoted(match.output.1), name: Self.unquoted(match.output.2))
    }

    private static func unquoted<S: StringProtocol>(_ identifier: S) -> String {
        let scalars = identifier.unicodeScalars
        guard scalars.count >= 2, scalars.first == "\"", scalars.last == "\"" else { return String(identifier) }
        return String(String.UnicodeScalarView(scalars.dropFirst().dropLast())).replacingScalars("\"\"", with: "\"")
    }
}
