import Fencing
import Foundation
import Logging
import PostgresClient
import Snapshotting
import Testing
import TestSupport

@Suite struct FenceTests {
    @Test func readonlyEndsOldSessionsAndRefusesNewWrites() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)") }
            let before = try await Connection.connect(source)  // a client connected before the fence
            try await withStore { store in
                var options = SnapshotOptions(source: source, store: store, stack: "f", jobs: 1, codec: .gzip(level: 1), toolVersion: "test")
                options.fence = .readonly
                let manifest = try await SnapshotRunner.take(options, logger: Logger(label: "test"))
                #expect(manifest.fence == "readonly")
                #expect(manifest.tables.first?.rows == 1)
            }
            await #expect(throws: (any Error).self) { try await before.execute("INSERT INTO t VALUES (2)") }
            await before.close()
            let refused = await #expect(throws: ServerError.self) {
                try await withConnection(source) { try await $0.execute("INSERT INTO t VALUES (3)") }
            }
            #expect(refused?.sqlState == "25006")  // read_only_sql_transaction
        }
    }

    /// A snapshot stopped after its fence went up is run again (`hook pre-destroy` after a
    /// crash): the fence being up already must not refuse it.
    @Test func readonlyARepeatIsHarmless() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)") }
            #expect(try await Fence.readonly.apply(to: source) != nil)
            #expect(try await Fence.readonly.apply(to: source) != nil)
            let readOnly = try await withConnection(source) { try await $0.query("SHOW default_transaction_read_only").scalar(String.self) }
            #expect(readOnly == "on")
        }
    }

    /// While the fence stands, a client coming through PgBouncer is held; RESUME lets it on.
    @Test func pgbouncerHoldsClientsAndARepeatIsHarmless() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            let admin = try TestBed.pgbouncerAdmin
            let database = source["dbname"]!
            let throughBouncer = try TestBed.pgbouncer.database(database)
            // A live database's pool holds a server connection; PgBouncer 1.18 cannot release a
            // client that logged in while a never-used database was paused (README, Fences).
            // An application's client: continuity refuses to read or write data through a pooler.
            #expect(try await withConnection(throughBouncer, fixingSettings: false) { try await $0.query("SELECT 1").scalar(Int.self) } == 1)
            let fence = Fence.pgbouncer(admin: admin)
            let undo = try await fence.apply(to: source)
            #expect(undo?.hasPrefix("RESUME \"\(database)\"") == true)
            _ = try await fence.apply(to: source)  // already paused: still fine

            let held = Task { try await withConnection(throughBouncer, fixingSettings: false) { try await $0.query("SELECT 1").scalar(Int.self) } }
            try await waitUntil("a client held by the pause") {
                try await withConnection(admin, fixingSettings: false) { console in
                    try await console.query("SHOW CLIENTS").rows.contains { $0["database"] == database && $0["state"] == "waiting" }
                }
            }
            try await withConnection(admin, fixingSettings: false) { try await $0.execute("RESUME \"\(database)\"") }
            #expect(try await held.value == 1)
        }
    }
}
