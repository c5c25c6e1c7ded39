@testable import PostgresClient
import Testing
import TestSupport

/// Every data session runs with `SessionSettings.fixed`, whatever the database, the role or a
/// pooler in between would give it (issue 9, defect 1).
@Suite struct SessionSettingsTests {
    /// The database's odd settings, and ones that change how text is read, do not reach it.
    static let odd = OddSettings.source.merging(OddSettings.target) { first, _ in first }.merging([
        "row_security": "on", "statement_timeout": "5s", "idle_in_transaction_session_timeout": "5s",
        "standard_conforming_strings": "off", "client_encoding": "LATIN1",
    ]) { first, _ in first }

    static func shown(on connection: Connection) async throws -> [String: String] {
        let row = try await connection.query(SessionSettings.readBack).rows[0]
        // An empty search_path shows as nothing from the startup packet, as `""` once SET.
        return Dictionary(uniqueKeysWithValues: SessionSettings.fixed.indices.map {
            (SessionSettings.fixed[$0].name, row[$0] == "\"\"" ? "" : row[$0] ?? "")
        })
    }

    static let expected = [
        "client_encoding": "UTF8", "DateStyle": "ISO, MDY", "IntervalStyle": "postgres", "extra_float_digits": "3",
        "TimeZone": "UTC", "bytea_output": "hex", "xmloption": "content", "lc_monetary": "C",
        "standard_conforming_strings": "on", "array_nulls": "on", "row_security": "off",
        "statement_timeout": "0", "idle_in_transaction_session_timeout": "0", "search_path": "",
    ]

    /// The session as continuity opens it (TestSupport's `withConnection` sets a search_path for tests' own SQL).
    static func shown(_ dsn: ConnectionString, replication: Bool = false) async throws -> [String: String] {
        try await Connection.with(dsn, options: .init(replication: replication)) { try await shown(on: $0) }
    }

    @Test func sessionsAndWalsendersIgnoreTheDatabasesSettings() async throws {
        try await withTestDatabase(on: TestBed.active) { database in
            try await OddSettings.apply(Self.odd, to: database)
            #expect(try await Self.shown(database) == Self.expected)
            // pgoutput's text values are produced with the walsender's settings.
            #expect(try await Self.shown(database, replication: true) == Self.expected)
        }
    }

    /// The DSN's own `options` still apply; where they name a fixed setting, the fixed one wins.
    @Test func theDSNsOptionsAreKeptButDoNotWin() async throws {
        try await withTestDatabase(on: TestBed.active) { database in
            let dsn = database.setting("options", to: "-c work_mem=5MB -c datestyle=German")
            let (workMem, dateStyle) = try await Connection.with(dsn) { connection in
                (try await connection.query("SHOW work_mem").scalar(String.self), try await connection.query("SHOW datestyle").scalar(String.self))
            }
            #expect(workMem == "5MB")
            #expect(dateStyle == "ISO, MDY")
        }
    }

    /// PgBouncer here ignores `options` (ignore_startup_parameters), and pools transactions:
    /// a SET would not last, so such a session is refused rather than run with other settings.
    @Test func throughAPoolerThatDropsOptionsTheSessionIsRefused() async throws {
        try await withTestDatabase(on: TestBed.active) { database in
            try await OddSettings.apply(OddSettings.source, to: database)
            let throughBouncer = try TestBed.pgbouncer.database(database["dbname"]!)
            let error = await #expect(throws: SessionSettingRefused.self) { try await Self.shown(throughBouncer) }
            #expect(error?.status == .refused)
            #expect(error?.problem.contains("pooler") == true)
        }
    }
}
