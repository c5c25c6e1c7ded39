import Compression
import DatabaseCopy
import Foundation
import Logging
import OperatorErrors
import PostgresClient
import PostgresTypes
import Restoring
import SnapshotFormat
import SnapshotObjects
import SnapshotStore
import Snapshotting
import Synchronization
import Testing
import TestSupport

@Suite struct SnapshotRestoreTests {
    static let logger = Logger(label: "test")

    /// The manifest's LSN is the snapshot's exact point in the WAL (the contract: a snapshot plus the
    /// stream from that LSN loses and repeats nothing). A witness slot made first sees every
    /// commit of a writer running through the snapshot: those before the LSN are in it, none after.
    @Test func theManifestLSNSplitsCommitsExactly() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { sql in
                try await sql.execute("CREATE TABLE ticks (id int PRIMARY KEY)")
                try await sql.execute("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [uniqueName("witness")])
            }
            let writerFailure = Mutex<String?>(nil)
            let writer = Task {
                do {
                    try await withConnection(source) { sql in
                        var id = 0
                        while !Task.isCancelled {
                            id += 1
                            try await sql.execute("INSERT INTO ticks VALUES (\(id))")
                        }
                    }
                } catch where !Task.isCancelled {
                    writerFailure.withLock { $0 = "\(error)" }
                }
            }
            try await waitUntil("the writer to commit", timeout: .seconds(60)) {  // a loaded CI machine was seen to take 20 s
                // A writer that failed never commits: say why at once rather than at the timeout.
                if let failure = writerFailure.withLock({ $0 }) { throw WriterFailed(reason: failure) }
                return try await withConnection(source) { try await $0.query("SELECT count(*) FROM ticks").scalar(Int.self) > 50 }
            }
            try await withStore { store in
                var options = SnapshotOptions(source: source, store: store, stack: "lsn", jobs: 1, codec: .none, toolVersion: "test")
                // The slot waits for transactions other tests keep open on the cluster: never fall back here.
                options.exactPointWait = .seconds(300)
                let manifest = try await SnapshotRunner.take(options, logger: Self.logger)
                writer.cancel()
                _ = try? await writer.value
                // test_decoding: "table public.ticks: INSERT: id[integer]:N", then "COMMIT …" at the commit's LSN.
                let changes = try await withConnection(source) {
                    try await $0.query("SELECT lsn, data FROM pg_logical_slot_peek_changes((SELECT slot_name FROM pg_replication_slots WHERE database = current_database()), NULL, NULL)").rows
                }
                var before: Set<String> = [], pending: String?
                for change in changes {
                    guard let data = change["data"] else { continue }
                    if let range = data.range(of: "id[integer]:") { pending = String(data[range.upperBound...]) }
                    if data.hasPrefix("COMMIT"), let id = pending, let lsn = change["lsn"].flatMap({ LSN($0) }) {
                        if lsn < manifest.lsn { before.insert(id) }
                        pending = nil
                    }
                }
                try await withTestDatabase(on: TestBed.passive) { target in
                    try await RestoreRunner.restore(RestoreOptions(target: target, store: store, stack: "lsn", snapshot: "latest",
                                                                   jobs: 1, clean: false, toolVersion: "test"), logger: Self.logger)
                    let restored = try await withConnection(target) { try await $0.query("SELECT id FROM ticks").rows.compactMap { $0["id"] } }
                    #expect(!before.isEmpty)
                    let differ = Set(restored).symmetricDifference(before).compactMap { Int($0) }.sorted()
                    #expect(differ.isEmpty, "ids on one side of the LSN only: \(differ)")
                }
            }
        }
    }

    @Test(arguments: [Codec.gzip(level: 1), Codec.zstd(level: 3), Codec.none])
    func aRoundTripKeepsEveryTableAndSequence(_ codec: Codec) async throws {
        try await withRichSource { source in
            try await withStore { store in
                var options = SnapshotOptions(source: source, store: store, stack: "rich", jobs: 3, codec: codec, toolVersion: "test")
                options.blocksPerPart = 64  // force several parts per large table
                let manifest = try await SnapshotRunner.take(options, logger: Self.logger)
                #expect(manifest.tables.contains { $0.parts.count > 1 })
                #expect(manifest.tables.contains { $0.name == "parent_2026" })
                #expect(!manifest.tables.contains { $0.name == "parent" })  // partitioned parents hold no rows
                #expect(manifest.tables.first { $0.name == "everything" }?.columns.contains("\"doubled\"") == false)
                #expect(manifest.compression == codec.description)
                #expect(manifest.tables.flatMap(\.parts).allSatisfy { $0.path.hasSuffix(".copy" + (codec.fileExtension.map { "." + $0 } ?? "")) })

                try await withTestDatabase(on: TestBed.passive) { target in
                    try await RestoreRunner.restore(RestoreOptions(target: target, store: store, stack: "rich", snapshot: "latest",
                                                                   jobs: 3, clean: false, toolVersion: "test"), logger: Self.logger)
                    let before = try await DatabaseDigest.of(source)
                    let after = try await DatabaseDigest.of(target)
                    #expect(before == after, "source:\n\(before)\ntarget:\n\(after)")
                    #expect(before.tables.count == 9)  // 6 tables, 2 partitions and 1 materialized view hold data
                    let recorded = try await withConnection(target) {
                        try await $0.query("SELECT snapshot_id FROM continuity.restores").scalar(String.self)
                    }
                    #expect(recorded == manifest.id.rawValue)
                    // Triggers, foreign keys and generated columns work on the restored database.
                    try await withConnection(target) { connection in
                        try await connection.execute("INSERT INTO child (everything_id, label) VALUES (1, 'new')")
                        #expect(try await connection.query("SELECT count(*) FROM audit").scalar(Int.self) == 1)
                        await #expect(throws: ServerError.self) {
                            try await connection.execute("INSERT INTO child (everything_id) VALUES (-1)")
                        }
                        let doubled = try await connection.query("INSERT INTO everything (amount) VALUES (21) RETURNING doubled").scalar(String.self)
                        #expect(doubled == "42.000000")
                    }
                }
            }
        }
    }

    /// `continuity.restores` as an older continuity made it (no slot columns) stays readable
    /// and gains them; stream progress left from before is forgotten, since the rows it
    /// described were replaced (a stream resuming from it would skip the gap).
    @Test func theRestoreRecordKeepsOldRowsAndForgetsStaleProgress() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)") }
            try await withStore { store in
                let manifest = try await SnapshotRunner.take(SnapshotOptions(source: source, store: store, stack: "record", jobs: 1, codec: .none,
                                                                             toolVersion: "test"), logger: Self.logger)
                try await withTestDatabase(on: TestBed.passive) { target in
                    try await withConnection(target) { try await $0.execute("""
                        CREATE SCHEMA continuity;
                        CREATE TABLE continuity.restores (
                            snapshot_id text NOT NULL, stack text NOT NULL, store text NOT NULL, snapshot_lsn pg_lsn NOT NULL,
                            source_system_identifier text NOT NULL, restored_at timestamptz NOT NULL DEFAULT now(), tool_version text NOT NULL);
                        INSERT INTO continuity.restores (snapshot_id, stack, store, snapshot_lsn, source_system_identifier, restored_at, tool_version)
                        VALUES ('20200101T000000Z-0000', 'old', 'file:///old', '0/1', '1', now() - interval '1 day', 'old');
                        CREATE TABLE continuity.stream_progress (slot text PRIMARY KEY, lsn pg_lsn NOT NULL);
                        INSERT INTO continuity.stream_progress VALUES ('continuity', '0/1');
                        """) }
                    let old = try await withConnection(target) { try await RestoreRecord.latest(on: $0) }
                    #expect(old?.snapshotID == "20200101T000000Z-0000")
                    #expect(old?.slot == nil)
                    try await RestoreRunner.restore(RestoreOptions(target: target, store: store, stack: "record", snapshot: "latest",
                                                                   jobs: 1, clean: false, toolVersion: "test"), logger: Self.logger)
                    let latest = try await withConnection(target) { try await RestoreRecord.latest(on: $0) }
                    #expect(latest == RestoreRecord(snapshotID: manifest.id.rawValue, stack: "record", lsn: manifest.lsn, slot: nil,
                                                    sourceSystemIdentifier: manifest.source.systemIdentifier))
                    let (records, progress) = try await withConnection(target) { connection in
                        (try await connection.query("SELECT count(*) FROM continuity.restores").scalar(Int.self),
                         try await connection.query("SELECT count(*) FROM continuity.stream_progress").scalar(Int.self))
                    }
                    #expect(records == 2)
                    #expect(progress == 0)
                }
            }
        }
    }

    @Test func aNonEmptyTargetIsRefusedUnlessClean() async throws {
        try await withRichSource { source in
            try await withStore { store in
                _ = try await SnapshotRunner.take(SnapshotOptions(source: source, store: store, stack: "s", jobs: 2, codec: .gzip(level: 1),
                                                                  toolVersion: "test"), logger: Self.logger)
                try await withTestDatabase(on: TestBed.passive) { target in
                    try await withConnection(target) { try await $0.execute("CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)") }
                    var options = RestoreOptions(target: target, store: store, stack: "s", snapshot: "latest", jobs: 2, clean: false, toolVersion: "test")
                    let refused = await #expect(throws: Refusal.self) { try await RestoreRunner.restore(options, logger: Self.logger) }
                    #expect(refused?.status == .refused)
                    let kept = try await withConnection(target) { try await $0.query("SELECT count(*) FROM precious").scalar(Int.self) }
                    #expect(kept == 1)

                    options.clean = true
                    try await RestoreRunner.restore(options, logger: Self.logger)
                    #expect(try await DatabaseDigest.of(source) == DatabaseDigest.of(target))
                }
            }
        }
    }

    /// Post-data on two sessions: a primary key, plain and expression indexes, and index
    /// entries that pg_dump extends with CLUSTER ON and REPLICA IDENTITY USING INDEX all come
    /// back, and ANALYZE ran after the indexes, since the expression index has statistics.
    @Test func postDataComesBackWithStatisticsForExpressionIndexes() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) {
                try await $0.execute("""
                    CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, city text NOT NULL);
                    INSERT INTO people SELECT i, 'Name ' || (i % 97), 'City ' || (i % 13) FROM generate_series(1, 3000) i;
                    CREATE INDEX people_lower_name ON people (lower(name));
                    CREATE INDEX people_city ON people (city);
                    CREATE UNIQUE INDEX people_id_city ON people (id, city);
                    ALTER TABLE people CLUSTER ON people_city;
                    ALTER TABLE people REPLICA IDENTITY USING INDEX people_id_city;
                    CREATE TABLE notes (id int PRIMARY KEY, person int REFERENCES people, body text);
                    INSERT INTO notes SELECT i, i, 'note' FROM generate_series(1, 500) i;
                    CREATE INDEX notes_body ON notes (body);
                    """)
            }
            try await withStore { store in
                _ = try await SnapshotRunner.take(SnapshotOptions(source: source, store: store, stack: "post", jobs: 2, codec: .gzip(level: 1),
                                                                  toolVersion: "test"), logger: Self.logger)
                try await withTestDatabase(on: TestBed.passive) { target in
                    try await RestoreRunner.restore(RestoreOptions(target: target, store: store, stack: "post", snapshot: "latest",
                                                                   jobs: 2, clean: false, toolVersion: "test"), logger: Self.logger)
                    let indexes = """
                        SELECT string_agg(c.relname || ':' || i.indisclustered || ':' || i.indisreplident, ' ' ORDER BY c.relname)
                        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                        WHERE i.indrelid IN ('people'::regclass, 'notes'::regclass)
                        """
                    let (restored, original) = (try await withConnection(target) { try await $0.query(indexes).scalar(String.self) },
                                                try await withConnection(source) { try await $0.query(indexes).scalar(String.self) })
                    #expect(restored == original)
                    let statistics = try await withConnection(target) {
                        try await $0.query("SELECT count(*) FROM pg_stats WHERE tablename = 'people_lower_name'").scalar(Int.self)
                    }
                    #expect(statistics == 1)
                    #expect(try await DatabaseDigest.of(source) == DatabaseDigest.of(target))
                }
            }
        }
    }

    @Test func aDamagedPartStopsTheRestoreAndIsNamed() async throws {
        try await withDamagedSnapshot({ bytes in bytes[bytes.count / 2] ^= 0x01 }) { error in
            #expect(error.contains("is damaged"))
        }
    }

    @Test func aTruncatedPartStopsTheRestoreAndIsNamed() async throws {
        try await withDamagedSnapshot({ bytes in bytes.removeLast(bytes.count / 3) }) { error in
            #expect(error.contains("is damaged"))
        }
    }

    /// Snapshot one table, damage its single part on disk, and restore: the part is named, and
    /// nothing of it (or a record of success) is left in the target.
    private func withDamagedSnapshot(_ damage: (inout [UInt8]) -> Void, _ check: (String) -> Void) async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) {
                try await $0.execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 20000) i")
            }
            try await withStore { store in
                let manifest = try await SnapshotRunner.take(SnapshotOptions(source: source, store: store, stack: "d", jobs: 1,
                                                                             codec: .gzip(level: 1), toolVersion: "test"), logger: Self.logger)
                let part = try #require(manifest.tables.first?.parts.first)
                let file = "\((store as! FileStore).root)/\(part.path)"
                var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
                damage(&bytes)
                try Data(bytes).write(to: URL(fileURLWithPath: file))

                try await withTestDatabase(on: TestBed.passive) { target in
                    do {
                        try await RestoreRunner.restore(RestoreOptions(target: target, store: store, stack: "d", snapshot: manifest.id.rawValue,
                                                                       jobs: 1, clean: false, toolVersion: "test"), logger: Self.logger)
                        Issue.record("a damaged snapshot restored without error")
                    } catch let error as DamagedPart {
                        #expect(error.path == part.path)
                        check(error.description)
                    }
                    let left = try await withConnection(target) { connection in
                        (try await connection.query("SELECT count(*) FROM t").scalar(Int.self),
                         try await connection.query("SELECT to_regclass('continuity.restores') IS NULL").scalar(Bool.self))
                    }
                    #expect(left.0 == 0)
                    #expect(left.1)
                }
            }
        }
    }

    @Test func anUnknownOrMissingSnapshotIsAClearError() async throws {
        try await withStore { store in
            let empty = await #expect(throws: UsageError.self) {
                try await RestoreRunner.restore(RestoreOptions(target: TestBed.passive, store: store, stack: "none", snapshot: "latest",
                                                               jobs: 1, clean: false, toolVersion: "test"), logger: Self.logger)
            }
            #expect(empty?.problem.hasPrefix("no snapshot of stack none in file://") == true)
            let unknown = await #expect(throws: UsageError.self) {
                try await RestoreRunner.restore(RestoreOptions(target: TestBed.passive, store: store, stack: "none",
                                                               snapshot: "20260101T000000Z-abcd", jobs: 1, clean: false, toolVersion: "test"),
                                                logger: Self.logger)
            }
            #expect(unknown?.status == .badInput)
        }
    }
}

/// A fresh database on the active with `RichSchema` loaded.
func withRichSource(_ body: (ConnectionString) async throws -> Void) async throws {
    try await withTestDatabase(on: TestBed.active) { source in
        try await withConnection(source) { try await $0.execute(RichSchema.sql) }
        try await body(source)
    }
}

struct WriterFailed: Error, CustomStringConvertible {
    let reason: String
    var description: String { "the writer failed: \(reason)" }
}
