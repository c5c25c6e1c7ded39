import PostgresClient

/// Per-table row counts and content digests, and sequence values: two databases with equal
/// digests hold the same data.
///
/// Values are compared in their text forms, so the session fixes every setting those depend
/// on itself (as pg_dump does), rather than trusting the connection code it helps to test;
/// rows are digested in an order of their own ("C" collation of the text form), not their
/// physical order, and hashed as UTF-8, so databases in different encodings compare.
public struct DatabaseDigest: Equatable, CustomStringConvertible {
    public var tables: [String: String]
    public var sequences: [String: String]

    public static let sessionSettings = """
        SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET TimeZone = 'UTC';
        SET bytea_output = 'hex'; SET client_encoding = 'UTF8'; SET lc_monetary = 'C'; SET xmloption = content;
        SET row_security = off; SET search_path = ''
        """

    public static func of(_ dsn: ConnectionString) async throws -> DatabaseDigest {
        try await Connection.with(dsn) { connection in
            try await connection.execute(sessionSettings)
            var tables: [String: String] = [:]
            let names = try await connection.query("""
                SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'continuity')
                  AND n.nspname !~ '^pg_' ORDER BY 1
                """).rows.compactMap { $0["name"] }
            for name in names {
                let row = try await connection.query(
                    "SELECT count(*) AS n, coalesce(md5(convert_to(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE \"C\"), 'UTF8')), '-') AS digest FROM ONLY \(name) t").rows[0]
                tables[name] = "\(row["n"] ?? "?") rows, \(row["digest"] ?? "?")"
            }
            var sequences: [String: String] = [:]
            for row in try await connection.query("SELECT format('%I.%I', schemaname, sequencename) AS name, last_value FROM pg_sequences").rows {
                sequences[row["name"] ?? "?"] = row["last_value"] ?? "null"
            }
            return DatabaseDigest(tables: tables, sequences: sequences)
        }
    }

    /// The rows of one table in their text forms under the same settings, sorted: to show
    /// what differs when digests do.
    public static func rows(of table: String, in dsn: ConnectionString) async throws -> [String] {
        try await Connection.with(dsn) { connection in
            try await connection.execute(sessionSettings)
            return try await connection.query("SELECT t::text AS row FROM ONLY \(table) t ORDER BY t::text COLLATE \"C\"").rows.map { $0["row"] ?? "NULL" }
        }
    }

    public var description: String {
        (tables.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            + sequences.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }).joined(separator: "\n")
    }
}
