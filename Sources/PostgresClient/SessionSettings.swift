import OperatorErrors
import PostgresTypes

/// The settings every data session runs with, whatever postgresql.conf, `ALTER DATABASE … SET`
/// or `ALTER ROLE … SET` say: values travel between servers as text (COPY, the walsender's
/// pgoutput, the applier's parameters), and that text must mean the same thing on both sides.
/// pg_dump and native logical replication fix the same ones per session.
///
/// They go in the startup packet (`options`, after any the DSN gives, so these win; client
/// settings also override the database's and the role's), and are read back once after
/// connecting. PostgreSQL always takes them, so a session where one differs goes through a
/// pooler that dropped them (PgBouncer ignores `options` where `ignore_startup_parameters`
/// lists it): it is refused. A SET would not do: in transaction pooling the next transaction
/// may run on another server connection, one that never saw it.
public enum SessionSettings {
    public struct Setting: Sendable, Equatable {
        public let name: String
        public let value: String
    }

    public static let fixed: [Setting] = [
        // What the code decodes every byte from the server as; the server converts other
        // database encodings (SQL_ASCII, which it cannot, is refused: `UnconvertibleEncoding`).
        .init(name: "client_encoding", value: "UTF8"),
        // ISO dates read back the same under any DateStyle; the database's `SQL, DMY` would
        // give 04/03/2024, which a passive set to MDY reads as the 3rd of April.
        // MDY is PostgreSQL's default order; with ISO it only matters for ambiguous input.
        .init(name: "DateStyle", value: "ISO, MDY"),
        // The interval form every IntervalStyle parses alike (sql_standard's signs do not).
        .init(name: "IntervalStyle", value: "postgres"),
        // Shortest exact float text; 0 and below round (0.30000000000000004 becomes 0.3).
        .init(name: "extra_float_digits", value: "3"),
        // timestamptz text carries its offset either way; one zone gives one text to compare.
        .init(name: "TimeZone", value: "UTC"),
        // The bytea form with no escaping subtleties, and the faster one to produce.
        .init(name: "bytea_output", value: "hex"),
        // XML values may be fragments; with `document` they would not load.
        .init(name: "xmloption", value: "content"),
        // money's text depends on the locale: the same on both sides, the server's own.
        .init(name: "lc_monetary", value: "C"),
        // Names print qualified and resolve the same everywhere: a regclass value is `t1`
        // under the active's search_path and would be read back as another schema's t1 on
        // the passive. Every statement here qualifies its names; pg_catalog is searched
        // first regardless, so no user function can stand in for a built-in one. pg_dump
        // and the native apply worker run with the same empty path.
        .init(name: "search_path", value: ""),
        // Backslashes in literals are plain characters, as the quoting here assumes.
        .init(name: "standard_conforming_strings", value: "on"),
        // `{a,NULL}` is an array with a null; with array_nulls off NULL becomes the text "NULL".
        .init(name: "array_nulls", value: "on"),
        // A table whose policies hide rows from this role makes a read fail, not return fewer
        // rows: a copy is all of a table or an error (pg_dump does the same).
        .init(name: "row_security", value: "off"),
        // A role's limits must not cut a long COPY short, or end the coordinator's snapshot
        // transaction while it waits idle for the copying sessions.
        .init(name: "statement_timeout", value: "0"),
        .init(name: "idle_in_transaction_session_timeout", value: "0"),
    ]

    /// The `options` startup parameter: the DSN's own (or PGOPTIONS) first, these after, so these win.
    static func startupOptions(after existing: String?) -> String {
        let ours = fixed.filter { $0.name != "client_encoding" }
            .map { "-c \($0.name.lowercased())=\(escape($0.value))" }
            .joined(separator: " ")
        guard let existing, !existing.isEmpty else { return ours }
        return existing + " " + ours
    }

    /// In `options` a space separates arguments unless a backslash escapes it.
    private static func escape(_ value: String) -> String {
        value.replacingScalars("\\", with: "\\\\").replacingScalars(" ", with: "\\ ")
    }

    /// One query reading every setting back, in `fixed`'s order.
    static let readBack = "SELECT " + fixed.indices.map { "current_setting('\(fixed[$0].name)') AS s\($0)" }.joined(separator: ", ")

    /// The settings whose value differs from the fixed one. Compared without case, spaces and
    /// double quotes: the server shows `ISO, MDY` however it was spelled, and an empty
    /// search_path as `""` once SET.
    static func differing(_ shown: [String?]) -> [Setting] {
        func normal(_ text: String?) -> String { (text ?? "").lowercased().filter { $0 != " " && $0 != "\"" } }
        return fixed.indices.filter { $0 >= shown.count || normal(shown[$0]) != normal(fixed[$0].value) }.map { fixed[$0] }
    }

}

/// The session runs without a setting continuity asked for at connect: a pooler in between
/// dropped it, and values read or written there could change meaning, so nothing is.
public struct SessionSettingRefused: OperatorError {
    public let target: String
    public let name: String
    public let shown: String
    public let wanted: String
    public var status: ExitStatus { .refused }
    public var problem: String {
        "\(target) runs with \(name) = '\(shown)', not the '\(wanted)' continuity asked for at connect: a pooler in between (PgBouncer?) drops startup options"
    }
    public var fix: String? {
        "point continuity at PostgreSQL itself, not at a pooler (PgBouncer's admin console, for fences, is given with --pgbouncer-admin)"
    }
}

/// SQL_ASCII stores bytes unchecked, in no known encoding: the server cannot convert them to
/// UTF-8 and nothing downstream can tell what they meant.
public struct UnconvertibleEncoding: OperatorError {
    public let target: String
    public var status: ExitStatus { .refused }
    public var problem: String {
        "\(target) is a SQL_ASCII database: its text is bytes in no known encoding, which cannot be carried faithfully"
    }
    public var fix: String? {
        "move the data into a database with a real encoding (for example pg_dump --encoding=<the encoding the data is in> and restore into a UTF8 database), and use that one"
    }
}
