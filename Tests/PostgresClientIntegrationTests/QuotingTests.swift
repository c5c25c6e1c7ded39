import PostgresClient
import PostgresTypes
import Testing
import TestSupport

/// Names and text that end a quote with a combining mark or a joiner reach PostgreSQL intact.
@Suite struct QuotingTests {
    @Test func hazardousNamesAndTextRoundTripThroughTheServer() async throws {
        try await withTestDatabase(on: TestBed.active) { dsn in
            try await withConnection(dsn) { sql in
                for (index, mark) in ["\u{301}", "\u{200D}", "\u{903}", ""].enumerated() {
                    let name = "t\"\(mark)\(index)"
                    try await sql.execute("CREATE TABLE \(qualifiedName("public", name)) (v text)")
                    try await sql.execute("INSERT INTO \(qualifiedName("public", name)) VALUES (\(quoteLiteral("it'\(mark)s \\\(mark)")))")
                    let stored = try await sql.query("SELECT v FROM \(qualifiedName("public", name))").scalar(String.self)
                    #expect(stored == "it'\(mark)s \\\(mark)")
                    let found = try await sql.query("SELECT count(*) FROM pg_class WHERE relname = $1", [name]).scalar(Int.self)
                    #expect(found == 1)
                }
            }
        }
    }
}
