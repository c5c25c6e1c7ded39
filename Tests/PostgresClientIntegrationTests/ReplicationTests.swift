import PgOutput
import PostgresClient
import Testing
import TestSupport

@Suite struct ReplicationTests {
    @Test func identifiesTheSystem() async throws {
        try await withConnection(TestBed.active, replication: true) { replication in
            let identity = try await replication.identifySystem()
            #expect(identity.timeline >= 1)
            #expect(identity.walPosition > .zero)
            #expect(identity.database == "postgres")
            #expect(!identity.systemID.isEmpty)
        }
    }

    /// The whole path a stream takes: slot with an exported snapshot, a second session reading
    /// under that snapshot, START_REPLICATION, pgoutput data for a later insert, a status
    /// update, a clean end of CopyBoth, and the slot dropped.
    @Test func streamsChangesFromALogicalSlot() async throws {
        try await withTestDatabase(on: TestBed.active) { dsn in
            let slot = uniqueName("slot")
            try await withConnection(dsn) { sql in
                try await sql.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1); CREATE PUBLICATION p FOR TABLE t")
                try await withConnection(dsn, replication: true) { replication in
                    let created = try await replication.createLogicalSlot(slot, snapshot: .export)
                    #expect(created.plugin == "pgoutput")
                    let snapshot = try #require(created.snapshotName)

                    // A row inserted after the slot exists is not in the exported snapshot...
                    try await withConnection(dsn) { try await $0.execute("INSERT INTO t VALUES (2)") }
                    try await withConnection(dsn) { reader in
                        try await reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                        try await reader.execute("SET TRANSACTION SNAPSHOT '\(snapshot)'")
                        #expect(try await reader.query("SELECT count(*) FROM t").scalar(Int.self) == 1)
                        try await reader.execute("COMMIT")
                    }

                    // ...but it is in the stream from the slot's consistent point.
                    try await replication.startLogicalReplication(
                        slot: slot, from: created.consistentPoint,
                        options: [("proto_version", "1"), ("publication_names", "p")])
                    var kinds: [UInt8] = []
                    try await waitUntil("an Insert in the stream", timeout: .seconds(60)) {
                        for message in try await replication.receive(timeout: .milliseconds(200)) ?? [] {
                            // XLogData is 'w' + 24 bytes of header, then the pgoutput message.
                            if message.first == UInt8(ascii: "w"), message.count > 25 { kinds.append(message[25]) }
                        }
                        return kinds.contains(UInt8(ascii: "I"))
                    }
                    #expect(kinds.first == UInt8(ascii: "B"))
                    try await replication.sendCopyData(StandbyStatusUpdate(
                        written: created.consistentPoint, flushed: created.consistentPoint,
                        applied: created.consistentPoint, clock: 0).bytes)
                    try await replication.endReplication()
                    try await replication.dropSlot(slot)
                }
                #expect(try await sql.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [slot])
                    .scalar(Int.self) == 0)
            }
        }
    }

    @Test func refusesAnInvalidSlotName() async throws {
        try await withConnection(TestBed.active, replication: true) { replication in
            await #expect(throws: ServerError.self) { try await replication.dropSlot("Robert'); DROP") }
        }
    }
}
