import PostgresClient
import PostgresTypes

/// Database-level settings that change how values are written and read as text (issue 9,
/// defect 1), and a table of the types they touch. A copy or a stream that inherits them
/// swaps day and month, rounds floats, or reads `NULL` in an array as a string.
public enum OddSettings {
    /// What the source database sets: every output form differs from the default.
    public static let source = [
        "datestyle": "SQL, DMY", "intervalstyle": "sql_standard", "extra_float_digits": "0",
        "timezone": "Pacific/Chatham", "bytea_output": "escape",
    ]
    /// What the passive sets: different again, with settings that change how text is read.
    public static let target = [
        "datestyle": "Postgres, MDY", "intervalstyle": "iso_8601", "extra_float_digits": "1",
        "timezone": "Asia/Kathmandu", "xmloption": "document", "array_nulls": "off",
    ]

    /// `ALTER DATABASE … SET` for the database `dsn` names; sessions opened afterwards get them.
    public static func apply(_ settings: [String: String], to dsn: ConnectionString) async throws {
        let database = quoteIdentifier(dsn["dbname"] ?? "postgres")
        try await withConnection(dsn) { connection in
            for (name, value) in settings.sorted(by: { $0.key < $1.key }) {
                try await connection.execute("ALTER DATABASE \(database) SET \(name) = '\(value)'")
            }
        }
    }

    public static let schema = """
        CREATE TABLE typed (id int PRIMARY KEY, d date, ts timestamp, tstz timestamptz, iv interval,
                            f4 real, f8 double precision, tiny double precision, b bytea, m money, x xml, a text[])
        """

    /// Rows built from expressions, never from text whose reading depends on the session.
    public static func insert(_ ids: ClosedRange<Int>, on connection: Connection) async throws {
        try await connection.execute("""
            INSERT INTO typed
            SELECT i, date '2024-03-04' + i, timestamp '2024-03-04 05:06:07.123456' + make_interval(days => i, secs => i),
                   timestamptz '2024-03-04 05:06:07.123456+00' + make_interval(days => i),
                   make_interval(years => 1, months => 2, days => -3 - i, hours => 4, mins => 5, secs => 6.789),
                   i::real / 3, 0.1::float8 * i + 0.2::float8, 1e-300 / i, decode('005c27ff' || lpad(to_hex(i), 2, '0'), 'hex'),
                   (i * 1234.56)::numeric::money, xmlparse(content 'a<b>' || i || '</b>c'),
                   ARRAY['x' || i, NULL, 'NULL', 'with space', 'q"uote']
            FROM generate_series(\(ids.lowerBound), \(ids.upperBound)) i
            """)
    }
}
