import Foundation
import OperatorErrors
import PostgresClient

/// Where the journal lives: a local file, written first and read by the watchdog and
/// `--recover` (it needs no server), and a table on the passive, for `cutover status` from
/// anywhere and for the record to outlive this machine. A record is in the file before the
/// work it announces starts, and in the table as far as the passive allows, so the file is
/// never behind the table.
struct CutoverJournalStore: Sendable {
    let path: String
    let slot: String

    static let table = "continuity.cutover_journal"

    /// Appends the record to the file (fsynced): from then on it is journalled, as the watchdog
    /// and `--recover` see it. The copy on `passive` is best effort (the passive may be what
    /// failed): the problem with it is returned, to be logged.
    func append(_ record: CutoverJournal, passive: Connection?) async throws -> String? {
        try appendToFile(record)
        guard let passive else { return nil }
        do {
            try await Self.createTable(on: passive)
            try await passive.execute("""
                INSERT INTO \(Self.table) (slot, state, at, cutover_lsn, reason, record) VALUES ($1, $2, $3::timestamptz, $4::pg_lsn, $5, $6)
                """, [slot, record.state.rawValue, record.timeText, record.cutoverLSN?.description,
                      record.reason, record.jsonLine])
            return nil
        } catch {
            return "the passive's copy of the journal lacks the \(record.state.rawValue) record: \((error as? any OperatorError)?.problem ?? "\(error)")"
        }
    }

    /// The file's records, oldest first; an empty list when there is no file.
    func readFile() throws -> [CutoverJournal] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure("cannot read the cutover journal \(path)", fix: "check its permissions")
        }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line throws(Failure) in
            try CutoverJournal(jsonLine: String(line))
        }
    }

    /// The table's records for the slot, oldest first (none when the table does not exist).
    func readTable(on passive: Connection) async throws -> [CutoverJournal] {
        guard try await passive.query("SELECT to_regclass($1) IS NOT NULL", [Self.table]).scalar(Bool.self) else { return [] }
        return try await passive.query("SELECT record FROM \(Self.table) WHERE slot = $1 ORDER BY id", [slot]).rows
            .compactMap { $0["record"] }.map { line throws(Failure) in try CutoverJournal(jsonLine: line) }
    }

    /// The records that decide: the file's, or the table's where there is no file (`--recover`
    /// on another machine). The file is written first, so where both exist it is the newer.
    func read(passive: Connection?) async throws -> [CutoverJournal] {
        let file = try readFile()
        guard file.isEmpty, let passive else { return file }
        return try await readTable(on: passive)
    }

    private func appendToFile(_ record: CutoverJournal) throws {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw Failure("cannot open the cutover journal \(path): \(String(cString: strerror(errno)))",
                          fix: "give --journal a path in a writable directory")
        }
        defer { close(descriptor) }
        let bytes = Array((record.jsonLine + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw Failure("cannot write the cutover journal \(path): \(String(cString: strerror(errno)))",
                          fix: "free space on its disk, or give --journal another path")
        }
    }

    static func createTable(on passive: Connection) async throws {
        try await passive.execute("""
            CREATE SCHEMA IF NOT EXISTS continuity;
            CREATE TABLE IF NOT EXISTS \(table) (
                id bigserial PRIMARY KEY, slot text NOT NULL, state text NOT NULL, at timestamptz NOT NULL,
                cutover_lsn pg_lsn, reason text, record text NOT NULL)
            """)
    }
}
