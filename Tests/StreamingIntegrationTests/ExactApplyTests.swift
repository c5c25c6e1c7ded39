import Logging
import OperatorErrors
import PostgresClient
import Streaming
import Testing
import TestSupport

/// Rows are found exactly, whatever their types, keys and partitions: each test writes on the
/// active, streams, and compares every table on both sides.
@Suite struct ExactApplyTests {
    /// Creates `schema` on both nodes, runs `workload` on the active and streams it until
    /// caught up; returns both digests.
    static func stream(schema: String, workload: [String], extensions: String = "") async throws -> (DatabaseDigest, DatabaseDigest) {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                for dsn in [source, target] { try await withConnection(dsn) { try await $0.execute(extensions + schema) } }
                var options = StreamOptions(source: source, target: target, slot: uniqueName("exact"),
                                            publication: uniqueName("pub"), until: .caughtUp)
                options.assumeInSync = true  // the same schema, no rows yet
                try await StreamRunner.prepare(options, logger: Logger(label: "test"))
                try await StreamRunnerTests.withSlot(options.slot) {
                    try await withConnection(source) { sql in for statement in workload { try await sql.execute(statement) } }
                    _ = try await StreamRunner.run(options, logger: Logger(label: "test"))
                }
                return (try await DatabaseDigest.of(source), try await DatabaseDigest.of(target))
            }
        }
    }

    /// REPLICA IDENTITY FULL with types whose text forms do not round-trip through `::text`
    /// (boolean, char(n), inet), equal values with different texts (numeric scale, -0, citext
    /// case), types without equality (json, point), and duplicate rows: each update and delete
    /// changes exactly the row it names.
    @Test func fullIdentityFindsExactlyTheRowWhateverItsTypes() async throws {
        let schema = """
            CREATE TABLE f (b boolean, c char(5), i inet, n numeric, x float8, t citext, j json, p point, d date, ts timestamptz, a int[]);
            ALTER TABLE f REPLICA IDENTITY FULL;
            """
        let (active, passive) = try await Self.stream(schema: schema, workload: [
            """
            INSERT INTO f VALUES (true, 'ab', '10.0.0.1', 1.0, 0, 'A', '{"k": 1}', '(1,2)', '2024-03-04', '2024-03-04 05:06:07+00', '{1,NULL}'),
                                 (true, 'ab', '10.0.0.1', 1.00, -0, 'a', '{"k":1}', '(1,2)', '2024-03-04', '2024-03-04 05:06:07+00', '{1,NULL}'),
                                 (true, 'ab', '10.0.0.1', 1.0, 0, 'A', '{"k": 1}', '(1,2)', '2024-03-04', '2024-03-04 05:06:07+00', '{1,NULL}'),
                                 (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
            """,
            "UPDATE f SET b = false WHERE n = 1.00 AND scale(n) = 2",       // the second row only
            "DELETE FROM f WHERE ctid = (SELECT min(ctid) FROM f WHERE scale(n) = 1)",  // one of two duplicates
            "UPDATE f SET c = 'zz' WHERE b IS NULL",
        ], extensions: "CREATE EXTENSION IF NOT EXISTS citext;")
        #expect(active == passive, "active:\n\(active)\npassive:\n\(passive)")
    }

    /// Keys whose texts are canonically equivalent but different bytes are two rows; a FULL row
    /// under a case-insensitive collation is found by its exact text; an inheritance parent's
    /// UPDATE and TRUNCATE do not reach its children; a GENERATED ALWAYS identity outside the
    /// key follows `SET n = DEFAULT`.
    @Test func textCollationsInheritanceAndIdentityApplyExactly() async throws {
        let schema = """
            CREATE TABLE k (k text PRIMARY KEY, v int);
            CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
            CREATE TABLE f (name text COLLATE ci, n int);
            ALTER TABLE f REPLICA IDENTITY FULL;
            CREATE TABLE parent (id int PRIMARY KEY, v text);
            CREATE TABLE child (extra int) INHERITS (parent);
            ALTER TABLE child ADD PRIMARY KEY (id);
            CREATE TABLE g (id int PRIMARY KEY, n int GENERATED ALWAYS AS IDENTITY, v text);
            """
        let (active, passive) = try await Self.stream(schema: schema, workload: [
            "INSERT INTO k VALUES (U&'caf\\00E9', 0), (U&'cafe\\0301', 0)",
            "BEGIN; UPDATE k SET v = 1 WHERE k = U&'caf\\00E9'; UPDATE k SET v = 2 WHERE k = U&'cafe\\0301'; COMMIT",
            "BEGIN; DELETE FROM k WHERE k = U&'cafe\\0301'; INSERT INTO k VALUES (U&'cafe\\0301', 9); COMMIT",
            "INSERT INTO f VALUES ('abc', 1), ('ABC', 1)",
            "DELETE FROM f WHERE name = 'ABC' COLLATE \"C\"",
            "INSERT INTO parent VALUES (1, 'p1'); INSERT INTO child VALUES (1, 'c1', 0), (2, 'c2', 0)",
            "UPDATE ONLY parent SET v = 'p1 changed' WHERE id = 1",
            "TRUNCATE ONLY parent; INSERT INTO parent VALUES (5, 'p5')",
            "INSERT INTO g (id, v) VALUES (1, 'a'), (2, 'b')",
            "UPDATE g SET n = DEFAULT, v = 'renumbered' WHERE id = 1",
        ])
        #expect(active == passive, "active:\n\(active)\npassive:\n\(passive)")
        #expect(passive.tables["public.child"]?.hasPrefix("2 rows") == true)
        #expect(passive.tables["public.k"]?.hasPrefix("2 rows") == true)
    }

    /// A regclass value travels qualified whatever search_path the active's database sets.
    @Test func aRegclassValueNamesTheSameTableOnBothSides() async throws {
        let schema = """
            CREATE SCHEMA app;
            CREATE TABLE app.t1 (x int PRIMARY KEY);
            CREATE TABLE public.t1 (x int PRIMARY KEY);
            CREATE TABLE refs (id int PRIMARY KEY, r regclass);
            DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = app, public', current_database()); END $$;
            """
        let (active, passive) = try await Self.stream(schema: schema, workload: [
            "INSERT INTO refs VALUES (1, 'app.t1'::regclass), (2, 'public.t1'::regclass)",
        ])
        #expect(active == passive, "active:\n\(active)\npassive:\n\(passive)")
    }

    /// Partitioned tables keyed only on their leaves, and leaves with FULL identity whose rows
    /// sit at the same ctid: inserts and deletes of different rows in one transaction, rows
    /// moving across partitions, and a TRUNCATE of one partition.
    @Test func partitionsKeyedOnTheirLeavesStreamExactly() async throws {
        let schema = """
            CREATE TABLE m (id int NOT NULL, v text) PARTITION BY RANGE (id);
            CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (100);
            CREATE TABLE m2 PARTITION OF m FOR VALUES FROM (100) TO (200);
            ALTER TABLE m1 ADD PRIMARY KEY (id);
            ALTER TABLE m2 ADD PRIMARY KEY (id);
            CREATE TABLE l (id int, v text) PARTITION BY LIST (id);
            CREATE TABLE l1 PARTITION OF l FOR VALUES IN (1);
            CREATE TABLE l2 PARTITION OF l FOR VALUES IN (2);
            ALTER TABLE l1 REPLICA IDENTITY FULL;
            ALTER TABLE l2 REPLICA IDENTITY FULL;
            CREATE TABLE keep (id int PRIMARY KEY);
            """
        let (active, passive) = try await Self.stream(schema: schema, workload: [
            "INSERT INTO m SELECT i, 'v' || i FROM generate_series(1, 10) i; INSERT INTO m VALUES (150, 'x')",
            "INSERT INTO l VALUES (1, 'one'), (2, 'two')",
            "BEGIN; INSERT INTO m VALUES (11, 'new'); DELETE FROM m WHERE id = 3; UPDATE m SET v = 'moved' WHERE id = 11; COMMIT",
            "UPDATE m SET id = id + 100, v = 'across' WHERE id IN (4, 5)",
            "UPDATE l SET v = 'second' WHERE id = 2",  // l1's and l2's rows are both at ctid (0,1)
            "DELETE FROM m WHERE id = 6",
            "INSERT INTO keep VALUES (1); TRUNCATE m2",
        ])
        #expect(active == passive, "active:\n\(active)\npassive:\n\(passive)")
        #expect(passive.tables["public.m1"]?.hasPrefix("7 rows") == true)
    }

    /// A publication of the operator's that would not carry every change is refused before a
    /// slot is made: through the root (a TRUNCATE of one partition is never sent), a subset of
    /// the tables, or some actions only.
    @Test(arguments: [
        ("FOR ALL TABLES WITH (publish_via_partition_root = true)", "public.m"),
        ("FOR TABLE t", "is not FOR ALL TABLES"),
        ("FOR ALL TABLES WITH (publish = 'insert, truncate')", "does not publish update, delete"),
    ])
    func aPublicationThatWouldMissChangesIsRefused(definition: String, named: String) async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            let publication = uniqueName("partial")
            try await withConnection(source) { sql in
                try await sql.execute("""
                    CREATE TABLE m (id int PRIMARY KEY) PARTITION BY RANGE (id);
                    CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (100);
                    CREATE TABLE t (id int PRIMARY KEY);
                    CREATE PUBLICATION \(publication) \(definition);
                    """)
            }
            var options = StreamOptions(source: source, target: source, slot: uniqueName("partial"), publication: publication, until: .caughtUp)
            options.assumeInSync = true
            let error = await #expect(throws: Refusal.self) { try await StreamRunner.prepare(options, logger: Logger(label: "test")) }
            #expect(error?.status == .refused)
            #expect(error?.problem.contains(named) == true, "\(error?.problem ?? "")")
            let slots = try await withConnection(source) {
                try await $0.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [options.slot]).scalar(Int.self)
            }
            #expect(slots == 0)
        }
    }

    /// Three bookings rotate their ranges under a non-deferrable exclusion constraint: the
    /// set-based UPDATE trips it, and the stretch is replayed change by change.
    @Test func anExclusionConflictIsReplayedOneByOne() async throws {
        let schema = """
            CREATE TABLE bookings (id int PRIMARY KEY, during int4range NOT NULL, EXCLUDE USING gist (during WITH &&));
            INSERT INTO bookings VALUES (1, '[1,2)'), (2, '[2,3)'), (3, '[3,4)');
            """
        let (active, passive) = try await Self.stream(schema: schema, workload: [
            """
            BEGIN;
            UPDATE bookings SET during = '[100,101)' WHERE id = 3;
            UPDATE bookings SET during = '[3,4)' WHERE id = 2;
            UPDATE bookings SET during = '[2,3)' WHERE id = 1;
            UPDATE bookings SET during = '[1,2)' WHERE id = 3;
            COMMIT
            """,
        ])
        #expect(active == passive, "active:\n\(active)\npassive:\n\(passive)")
    }

    /// A publication whose name needs quotes is created and requested under the same name.
    @Test func aMixedCasePublicationName() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                let schema = "CREATE TABLE t (id int PRIMARY KEY, v text);"
                for dsn in [source, target] { try await withConnection(dsn) { try await $0.execute(schema) } }
                var options = StreamOptions(source: source, target: target, slot: uniqueName("mixed"),
                                            publication: "My Pub " + uniqueName("X"), until: .caughtUp)
                options.assumeInSync = true
                try await StreamRunner.prepare(options, logger: Logger(label: "test"))
                try await StreamRunnerTests.withSlot(options.slot) {
                    try await withConnection(source) { try await $0.execute("INSERT INTO t VALUES (1, 'one')") }
                    let report = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    #expect(report.transactions == 1)
                }
                #expect(try await DatabaseDigest.of(source) == DatabaseDigest.of(target))
            }
        }
    }
}
