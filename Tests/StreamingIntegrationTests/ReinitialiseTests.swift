import Applier
import DatabaseCopy
import Logging
import OperatorErrors
import PostgresClient
import PostgresTypes
import Restoring
import Streaming
import Testing
import TestSupport

/// Re-initialising a passive (`--init copy --clean`, `restore --clean`) really starts over,
/// and a passive whose slot someone else followed is refused rather than resumed past a gap.
@Suite struct ReinitialiseTests {
    static let schema = "CREATE TABLE t (id int PRIMARY KEY, v text);"

    static func options(_ source: ConnectionString, _ target: ConnectionString, slot: String, publication: String) -> StreamOptions {
        var options = StreamOptions(source: source, target: target, slot: slot, publication: publication, until: .caughtUp)
        options.initMode = .copy
        return options
    }

    /// A second `--init copy --clean` into a passive copied before: the active's publication,
    /// which the first copy brought over, must not stop it; the progress row starts over.
    @Test func initCopyCleanReinitialisesAPassiveCopiedBefore() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) { try await $0.execute(Self.schema + "INSERT INTO t VALUES (1, 'one');") }
                var options = Self.options(source, target, slot: uniqueName("again"), publication: uniqueName("pub"))
                try await StreamRunnerTests.withSlot(options.slot) {
                    #expect(try await StreamRunner.run(options, logger: Logger(label: "test")).initialCopy != nil)
                    try await withConnection(source) { try await $0.execute("INSERT INTO t VALUES (2, 'two')") }
                    options.clean = true
                    let again = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    #expect(again.initialCopy?.rows == 2)
                }
                #expect(try await DatabaseDigest.of(source) == DatabaseDigest.of(target))
            }
        }
    }

    /// `--clean` first forgets the progress and the restore record, so a clean interrupted
    /// half-way leaves nothing a later stream would resume from; publications go too.
    @Test func cleanForgetsProgressAndPublicationsFirst() async throws {
        try await withTestDatabase(on: TestBed.passive) { target in
            try await withConnection(target) { sql in
                try await sql.execute(Self.schema + "CREATE PUBLICATION copied FOR ALL TABLES;")
                try await StreamProgress.start(slot: "old", at: LSN(rawValue: 42), on: sql)
                try await TargetPreparation.prepare(sql, clean: true, needs: [])
                #expect(try await sql.query("SELECT count(*) FROM continuity.stream_progress").scalar(Int.self) == 0)
                #expect(try await sql.query("SELECT count(*) FROM pg_publication").scalar(Int.self) == 0)
                #expect(try await sql.query("SELECT to_regclass('public.t') IS NULL").scalar(Bool.self))
            }
        }
    }

    /// Two passives on one slot name: the second re-creates the slot with its copy, so the
    /// first one's next run would start past the writes in between. It is refused instead.
    @Test func aSlotAnotherPassiveFollowedIsRefused() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { first in
                try await withTestDatabase(on: TestBed.passive) { second in
                    try await withConnection(source) { try await $0.execute(Self.schema + "INSERT INTO t VALUES (1, 'one');") }
                    let (slot, publication) = (uniqueName("shared"), uniqueName("pub"))
                    try await StreamRunnerTests.withSlot(slot) {
                        _ = try await StreamRunner.run(Self.options(source, first, slot: slot, publication: publication), logger: Logger(label: "test"))
                        try await withConnection(source) { try await $0.execute("INSERT INTO t VALUES (2, 'lost to the first')") }
                        var other = Self.options(source, second, slot: slot, publication: publication)
                        other.clean = true
                        _ = try await StreamRunner.run(other, logger: Logger(label: "test"))
                        try await withConnection(source) { try await $0.execute("INSERT INTO t VALUES (3, 'three')") }
                        _ = try await StreamRunner.run(other, logger: Logger(label: "test"))
                        let refusal = await #expect(throws: SlotMovedOn.self) {
                            try await StreamRunner.run(Self.options(source, first, slot: slot, publication: publication), logger: Logger(label: "test"))
                        }
                        #expect(refusal?.status == .refused)
                        #expect(refusal?.problem.contains("moved past what this passive applied") == true)
                    }
                }
            }
        }
    }
}
