import Synchronization
import Foundation
import PostgresClient

/// A stream workload over every table shape of `RichSchema` plus `extraTables`: inserts,
/// updates that change or leave TOASTed columns alone, deletes, duplicates in keyless FULL
/// tables, partition moves, a trigger that fires on the active, multi-statement and
/// rolled-back transactions, truncates, and key changes through a replica-identity index.
public enum MixedWorkload {
    /// Added to `RichSchema.sql` on the active: what the stream needs (`audit` has no key,
    /// so it gets FULL) and the shapes RichSchema lacks.
    public static let extraTables = """
        ALTER TABLE audit REPLICA IDENTITY FULL;
        CREATE TABLE events (k int, what text);
        ALTER TABLE events REPLICA IDENTITY FULL;
        INSERT INTO events VALUES (1, 'dup'), (1, 'dup');
        CREATE TABLE keyed (code text NOT NULL, n int);
        CREATE UNIQUE INDEX keyed_code ON keyed (code);
        ALTER TABLE keyed REPLICA IDENTITY USING INDEX keyed_code;
        INSERT INTO keyed SELECT 'c' || i, i FROM generate_series(1, 100) i;
        CREATE TABLE pad (k int PRIMARY KEY, v text);
        """

    /// The `i`th transaction of the workload; each kind comes round every twelve.
    public static func transaction(_ i: Int, on sql: Connection, truncating: Bool = true) async throws {
        // A few KB of poorly compressible text: stored out of line (TOAST).
        let big = "(SELECT string_agg(md5(random()::text || g), '') FROM generate_series(1, 80) g)"
        let quoted = #""Quoted ""Name""""#
        switch i % 12 {
        case 0:
            try await sql.execute("INSERT INTO everything (amount, note, tags) VALUES (\(i), \(big), ARRAY['w\(i)', NULL])")
        case 1:  // the TOASTed note is left alone: it arrives as 'unchanged'
            try await sql.execute("UPDATE everything SET amount = amount + 1, ratio = \(i) WHERE id = (SELECT max(id) FROM everything) - \(i % 40)")
        case 2:
            try await sql.execute("UPDATE everything SET note = \(big) WHERE id = (SELECT max(id) FROM everything) - \(i % 30)")
        case 3:
            try await sql.execute("DELETE FROM everything WHERE id = (SELECT max(id) FROM everything WHERE id > 200) - 5")
        case 4:
            try await sql.execute("""
                BEGIN;
                INSERT INTO events VALUES (\(i % 5), 'dup'), (\(i % 5), 'dup');
                UPDATE events SET what = 'one of two' WHERE ctid = (SELECT min(ctid) FROM events WHERE what = 'dup');
                DELETE FROM events WHERE ctid = (SELECT max(ctid) FROM events WHERE what = 'dup');
                COMMIT
                """)
        case 5:  // inserts, an update, and a move between partitions
            try await sql.execute("""
                BEGIN;
                INSERT INTO parent VALUES (\(100_000 + i), DATE '2025-03-01' + \(i % 300), 'new');
                UPDATE parent SET v = v || '+' WHERE id = \(i % 5000 + 1);
                UPDATE parent SET at = DATE '2026-06-01' WHERE id = \(100_000 + i);
                COMMIT
                """)
        case 6:  // the active's trigger writes audit; on the passive it must not fire again
            try await sql.execute("""
                BEGIN;
                INSERT INTO child (everything_id, label) VALUES (\(i % 100 + 1), 'w\(i)');
                UPDATE \(quoted) SET "select" = 'v\(i)' WHERE "Mixed Case" = 1;
                INSERT INTO "naïve_тест" VALUES (\(1000 + i), 'ключ \(i)');
                COMMIT
                """)
        case 7:
            try await sql.execute("BEGIN; INSERT INTO pad VALUES (\(-i), 'never'); DELETE FROM keyed; ROLLBACK")
        case 8:  // a key change through the replica-identity index
            try await sql.execute("UPDATE keyed SET code = 'k\(i)', n = n + 1 WHERE code = (SELECT min(code) FROM keyed)")
        case 9:
            try await sql.execute("INSERT INTO pad SELECT g, 'p' || g FROM generate_series(\(i * 10), \(i * 10 + 9)) g")
        case 10:
            try await sql.execute(i % 48 == 10 && truncating ? "TRUNCATE pad" : "DELETE FROM pad WHERE k % 3 = 0")
        default:
            try await sql.execute("SELECT nextval('invoice_numbers')")
            try await sql.execute("INSERT INTO everything (amount, docb, payload) VALUES (\(i), '{\"i\": \(i)}', '\\x00\(String(format: "%02x", i % 256))00')")
        }
    }

    /// Runs transactions until cancelled; returns how many it committed or rolled back.
    /// `truncating`: whether TRUNCATE is in the mix yet. A table truncated every few dozen
    /// transactions while `--init copy` starts makes its snapshot unusable again and again
    /// (`SnapshotTableLocks` retries, then refuses), so tests turn it on once the copy is done.
    public static func run(on dsn: ConnectionString, startingAt first: Int = 0, truncating: WorkloadSwitch = .on) async throws -> Int {
        try await withConnection(dsn) { sql in
            var i = first
            while !Task.isCancelled {
                try await transaction(i, on: sql, truncating: truncating.isOn)
                i += 1
            }
            return i - first
        }
    }
}

/// A flag a test flips while a workload runs.
public final class WorkloadSwitch: Sendable {
    private let state: Atomic<Bool>
    public init(_ on: Bool) { state = Atomic(on) }
    public static var on: WorkloadSwitch { WorkloadSwitch(true) }
    public func turnOn() { state.store(true, ordering: .relaxed) }
    public var isOn: Bool { state.load(ordering: .relaxed) }
}
