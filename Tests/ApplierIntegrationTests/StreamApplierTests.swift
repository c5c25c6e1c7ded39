import Applier
import ApplierFixtures
@testable import PgOutput
import PostgresClient
import PostgresTypes
import TestSupport
import Testing

@Suite struct StreamApplierTests {
    static let schema = CapturedWorkload.schema

    static var transaction: [PgOutputMessage] { CapturedChanges.transaction }

    static func rows(_ connection: Connection) async throws -> [[String?]] {
        try await connection.query("SELECT id::text, note, length(big)::text, feeling::text FROM items ORDER BY id").rows.map(\.values)
            + connection.query("SELECT a::text, b FROM full_rows ORDER BY a, b").rows.map(\.values)
    }

    /// A second applier of the same slot into the same passive waits its turn (55006, which a
    /// stream retries): had it read the progress before the first one's last commit, it would
    /// apply those transactions again.
    @Test func oneApplierPerSlotAndPassive() async throws {
        try await withTestDatabase(on: TestBed.passive) { dsn in
            try await withConnection(dsn) { try await $0.execute(Self.schema) }
            let slot = uniqueName("slot")
            try await withConnection(dsn) { first in
                _ = try await StreamApplier.open(on: first, slot: slot)
                try await withConnection(dsn) { second in
                    let refused = await #expect(throws: ServerError.self) { try await StreamApplier.open(on: second, slot: slot) }
                    #expect(refused?.sqlState == "55006")
                    _ = try await StreamApplier.open(on: second, slot: uniqueName("other"))  // another slot is another applier
                }
            }
            // The first session gone, its lock went with it.
            try await withConnection(dsn) { _ = try await StreamApplier.open(on: $0, slot: slot) }
        }
    }

    @Test func appliesOnceAndSkipsWhatIsAlreadyInAfterARestart() async throws {
        try await withTestDatabase(on: TestBed.passive) { dsn in
            try await withConnection(dsn) { try await $0.execute(Self.schema) }
            let slot = uniqueName("slot")
            let first = try await withConnection(dsn) { connection in
                let applier = try await StreamApplier.open(on: connection, slot: slot)
                #expect(await applier.appliedLSN == .zero)
                try await applier.apply(Self.transaction)
                try await applier.endGroup()
                try await applier.drain()
                return (await applier.appliedLSN, try await Self.rows(connection))
            }
            #expect(first.1 == [["2", "changed", "12800", "ok"], ["1", "a"]])
            guard case .commit(let commit) = Self.transaction.last else { Issue.record("no commit"); return }
            #expect(first.0 == commit.endLSN)

            // A restart: a new session reads the progress and the resent transaction is skipped
            // (applying it again would fail on the duplicate key of the first insert).
            try await withConnection(dsn) { connection in
                let applier = try await StreamApplier.open(on: connection, slot: slot)
                #expect(await applier.appliedLSN == commit.endLSN)
                try await applier.apply(Self.transaction)
                try await applier.endGroup()
                try await applier.drain()
                #expect(try await Self.rows(connection) == first.1)
                let progress = try await connection.query("SELECT lsn FROM continuity.stream_progress WHERE slot = $1", [slot])
                    .scalar(String.self)
                #expect(progress == commit.endLSN.description)
            }
        }
    }

    @Test func triggersOnThePassiveDoNotFireAgain() async throws {
        try await withTestDatabase(on: TestBed.passive) { dsn in
            try await withConnection(dsn) { connection in
                try await connection.execute(Self.schema + """
                    CREATE TABLE audit (what text);
                    CREATE FUNCTION note_it() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN INSERT INTO audit VALUES (TG_OP); RETURN NEW; END $$;
                    CREATE TRIGGER items_audit AFTER INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION note_it();
                    """)
                let applier = try await StreamApplier.open(on: connection, slot: uniqueName("slot"))
                try await applier.apply(Self.transaction)
                try await applier.endGroup()
                try await applier.drain()
                #expect(try await connection.query("SELECT count(*) FROM audit").scalar(Int.self) == 0)
            }
        }
    }

    @Test func aTableThatDiffersStopsWithTheDifference() async throws {
        try await withTestDatabase(on: TestBed.passive) { dsn in
            try await withConnection(dsn) { connection in
                try await connection.execute("""
                    CREATE TYPE mood AS ENUM ('ok', 'happy');
                    CREATE TABLE items (id int PRIMARY KEY, note text, feeling mood, added int);
                    """)
                let applier = try await StreamApplier.open(on: connection, slot: uniqueName("slot"))
                var failure: UnappliableChange?
                do {
                    try await applier.apply(Self.transaction)
                } catch let error as UnappliableChange {
                    failure = error
                }
                #expect(failure?.table == "public.items")
                #expect(failure?.reason.contains("missing on the passive: big") == true)
                #expect(failure?.reason.contains("only on the passive: added") == true)
                #expect(failure?.reason.contains("DDL is not streamed") == true)
            }
        }
    }

    /// A change that finds no row stops the stream before its group commits: the progress row
    /// does not move past it, so every re-run meets it again and stops again.
    @Test func aRowMissingOnThePassiveIsDivergenceAndNeverCommits() async throws {
        try await withTestDatabase(on: TestBed.passive) { dsn in
            try await withConnection(dsn) { try await $0.execute(Self.schema) }
            let slot = uniqueName("slot")
            // Begin, Type, Relation, then the update of row 2 without the inserts before it, and the commit.
            let messages = Self.transaction
            let update = messages.first { if case .update = $0 { true } else { false } }!
            for _ in 1...2 {
                try await withConnection(dsn) { connection in
                    let applier = try await StreamApplier.open(on: connection, slot: slot)
                    #expect(await applier.appliedLSN == .zero)
                    let error = await #expect(throws: UnappliableChange.self) {
                        try await applier.apply(Array(messages.prefix(3)) + [update, messages.last!])
                        try await applier.endGroup()
                        try await applier.drain()
                    }
                    #expect(error?.table == "public.items")
                    #expect(error?.reason.contains("has diverged") == true)
                }
                let progressRows = try await withConnection(dsn) {
                    try await $0.query("SELECT count(*) FROM continuity.stream_progress").scalar(Int.self)
                }
                #expect(progressRows == 0)
            }
        }
    }

    /// A Relation message in the middle of a group (the column's type changed on both nodes)
    /// starts the table's buffer afresh: a buffer kept from before would cast later values to
    /// the old type (float4 here, which rounds 0.30000000000000004 silently).
    @Test func aRelationMessageMidGroupCastsToTheNewTypes() async throws {
        try await withTestDatabase(on: TestBed.passive) { dsn in
            try await withConnection(dsn) { connection in
                try await connection.execute("CREATE TABLE t (id int PRIMARY KEY, v real)")
                func relation(_ type: UInt32) -> PgOutputMessage {
                    .relation(Relation(oid: 42, namespace: "public", name: "t", replicaIdentity: UInt8(ascii: "d"),
                                       columns: [.init(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
                                                 .init(isKey: false, name: "v", typeOID: type, typeModifier: -1)]))
                }
                func insert(_ id: String, _ v: String) -> PgOutputMessage {
                    .insert(Insert(relation: 42, new: TupleData(values: [.text(Array(id.utf8)[...]), .text(Array(v.utf8)[...])])))
                }
                let applier = try await StreamApplier.open(on: connection, slot: uniqueName("slot"))
                try await applier.apply([.begin(Begin(finalLSN: LSN(rawValue: 100), commitTime: 0, xid: 1)), relation(700), insert("1", "0.5")])
                try await connection.execute("ALTER TABLE t ALTER COLUMN v TYPE double precision")
                try await applier.apply([relation(701), insert("2", "0.30000000000000004"),
                                         .commit(Commit(flags: 0, commitLSN: LSN(rawValue: 100), endLSN: LSN(rawValue: 101), commitTime: 0))])
                try await applier.endGroup()
                try await applier.drain()
                let values = try await connection.query("SELECT v::text FROM t ORDER BY id").rows.map { $0["v"] }
                #expect(values == ["0.5", "0.30000000000000004"])
            }
        }
    }
}
