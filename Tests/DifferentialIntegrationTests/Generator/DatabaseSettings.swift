import TestSupport

/// Settings a database can carry (ALTER DATABASE … SET) that change how values are written
/// as text: a tool that inherits them instead of fixing its own corrupts data silently.
struct DatabaseSettings: Sendable, Equatable, CustomStringConvertible {
    var assignments: [(name: String, value: String)]

    static let choices: [(name: String, values: [String])] = [
        ("DateStyle", ["SQL, DMY", "SQL, MDY", "Postgres, DMY", "German", "ISO, DMY", "Postgres, YMD"]),
        ("IntervalStyle", ["sql_standard", "postgres_verbose", "iso_8601", "postgres"]),
        ("extra_float_digits", ["0", "-15", "1", "3"]),
        ("TimeZone", ["Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "Australia/Lord_Howe", "Etc/GMT+12", "UTC"]),
        ("bytea_output", ["escape", "hex"]),
    ]

    /// What the workload session and the reproduction use: the digests' own, pg_dump's choices.
    /// The digest's settings; the generated SQL names its objects unqualified, in public.
    static let fixedSession = DatabaseDigest.sessionSettings + "; SET search_path = public"

    static func random(_ rng: inout SplitMix64) -> DatabaseSettings {
        DatabaseSettings(assignments: choices.compactMap { choice in
            rng.chance(75) ? (choice.name, rng.pick(choice.values)) : nil
        })
    }

    func statements(database: String) -> [String] {
        assignments.map { "ALTER DATABASE \(Literal.identifier(database)) SET \($0.name) = \(Literal.quoted($0.value))" }
    }

    var description: String {
        assignments.isEmpty ? "(server defaults)" : assignments.map { "\($0.name) = '\($0.value)'" }.joined(separator: ", ")
    }

    static func == (a: DatabaseSettings, b: DatabaseSettings) -> Bool { a.description == b.description }
}
