import Foundation
import Logging
import OperatorErrors
import PostgresClient
import Restoring
import SnapshotFormat
import SnapshotStore
import Snapshotting
import Streaming
import Testing
import TestSupport

/// `snapshot --slot` → restore → stream: the stream starts at the snapshot's LSN on the slot
/// the snapshot kept, so the writes between the snapshot and the stream reach the passive.
@Suite struct SnapshotSlotStreamTests {
    static let logger = Logger(label: "test")

    static func withStore(_ body: (any SnapshotStore, String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-slot-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(try FileStore(root: directory), directory)
    }

    static func snapshotOptions(_ source: ConnectionString, _ store: any SnapshotStore, stack: String, slot: String) -> SnapshotOptions {
        var options = SnapshotOptions(source: source, store: store, stack: stack, jobs: 2, codec: .gzip(level: 1), toolVersion: "test")
        options.keepSlot = .init(name: slot, publication: "continuity")
        // The slot waits for transactions other tests keep open on the cluster.
        options.exactPointWait = .seconds(300)
        return options
    }

    static func slotCount(_ slot: String) async throws -> Int {
        try await withConnection(TestBed.active) {
            try await $0.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [slot]).scalar(Int.self)
        }
    }

    /// The defect 5: a writer runs through the snapshot, the restore and the stream;
    /// every table of every shape ends identical on both sides.
    @Test func aPassiveRestoredFromASnapshotWithASlotStreamsWithoutAGap() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) { try await $0.execute(RichSchema.sql + MixedWorkload.extraTables) }
                let slot = uniqueName("kept")
                try await StreamRunnerTests.withSlot(slot) {
                    try await Self.withStore { store, _ in
                        // A TRUNCATE as the snapshot starts makes it start again (SnapshotTableLocks): on once it is taken.
                        let truncating = WorkloadSwitch(false)
                        let writer = Task { try await MixedWorkload.run(on: source, truncating: truncating) }
                        func committed() async throws -> Int {
                            try await withConnection(source) { try await $0.query("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").scalar(Int.self) }
                        }
                        let start = try await committed()
                        try await waitUntil("the writer to commit before the snapshot") { try await committed() > start + 30 }
                        let manifest = try await SnapshotRunner.take(Self.snapshotOptions(source, store, stack: "kept", slot: slot), logger: Self.logger)
                        truncating.turnOn()
                        #expect(manifest.slot == .init(name: slot, publication: "continuity"))
                        #expect(try await Self.slotCount(slot) == 1)

                        try await RestoreRunner.restore(RestoreOptions(target: target, store: store, stack: "kept", snapshot: manifest.id.rawValue,
                                                                       jobs: 2, clean: false, toolVersion: "test"), logger: Self.logger)
                        let restored = try await withConnection(target) {
                            try await $0.query("SELECT snapshot_slot || ' ' || snapshot_lsn FROM continuity.restores").scalar(String.self)
                        }
                        #expect(restored == "\(slot) \(manifest.lsn)")
                        let afterRestore = try await committed()
                        try await waitUntil("the writer to commit after the restore") { try await committed() > afterRestore + 30 }

                        let options = StreamOptions(source: source, target: target, slot: slot, publication: "continuity", until: .caughtUp)
                        let first = try await StreamRunner.run(options, logger: Self.logger)
                        #expect(first.transactions > 0, "the writes since the snapshot should have been streamed")
                        writer.cancel()
                        let written = try await writer.value
                        #expect(written > 24, "the workload should cover every kind of transaction twice")
                        _ = try await StreamRunner.run(options, logger: Self.logger)

                        for dsn in [source, target] {
                            try await withConnection(dsn) { try await $0.execute("REFRESH MATERIALIZED VIEW totals") }
                        }
                        let (active, passive) = (try await DatabaseDigest.of(source), try await DatabaseDigest.of(target))
                        #expect(active.tables == passive.tables, "active:\n\(active)\npassive:\n\(passive)")
                    }
                }
            }
        }
    }

    /// A snapshot that fails after its slot is made drops the slot: left behind it would hold
    /// the source's WAL for good. Here the store cannot be written (the stack is a file).
    @Test func aFailedSnapshotLeavesNoSlotBehind() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)") }
            let slot = uniqueName("failed")
            try await StreamRunnerTests.withSlot(slot) {
                try await Self.withStore { store, directory in
                    try Data("not a directory".utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent("broken"))
                    await #expect(throws: (any Error).self) {
                        try await SnapshotRunner.take(Self.snapshotOptions(source, store, stack: "broken", slot: slot), logger: Self.logger)
                    }
                    #expect(try await Self.slotCount(slot) == 0)
                }
            }
        }
    }
}
