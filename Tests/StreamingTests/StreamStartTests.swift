import OperatorErrors
import PostgresClient
import DatabaseCopy
import PostgresTypes
import SnapshotFormat
@testable import Streaming
import Testing

/// Where a stream starts, without a server: every case of `StreamStart.decide`.
@Suite struct StreamStartTests {
    static let snapshotLSN = LSN("0/3000060")!
    static let request = StreamStart.Request(slot: "continuity", publication: "continuity", initMode: .none, clean: false, assumeInSync: false)
    static let active = StreamStart.Active(database: "orders", systemIdentifier: "7300",
                                           slot: .init(database: "orders", plugin: "pgoutput", confirmedFlush: snapshotLSN))
    static let restored = StreamStart.Passive(
        progress: nil,
        restore: RestoreRecord(snapshotID: "20261123T104512Z-3f9a", stack: "orders-db", lsn: snapshotLSN,
                               slot: .init(name: "continuity", publication: "continuity"), sourceSystemIdentifier: "7300"),
        contents: .init(userRelations: 4))
    static let filled = StreamStart.Passive(progress: nil, restore: nil, contents: .init(userRelations: 4))

    static func refusal(_ request: StreamStart.Request = request, passive: StreamStart.Passive, active: StreamStart.Active = active) -> Refusal? {
        do {
            let start = try StreamStart.decide(request, passive: passive, active: active)
            Issue.record("expected a refusal, got \(start)")
            return nil
        } catch {
            let refusal = error as? Refusal
            #expect(refusal?.status == .refused)
            return refusal
        }
    }

    @Test func aPassiveRestoredFromTheSlotsSnapshotStartsAtItsLSN() throws {
        #expect(try StreamStart.decide(Self.request, passive: Self.restored, active: Self.active)
                == .snapshot(id: "20261123T104512Z-3f9a", lsn: Self.snapshotLSN))
        var copy = Self.request
        copy.initMode = .copy  // the restored data is the copy
        #expect(try StreamStart.decide(copy, passive: Self.restored, active: Self.active) == .snapshot(id: "20261123T104512Z-3f9a", lsn: Self.snapshotLSN))
    }

    @Test func progressResumesAndAMissingSlotBehindItIsRefused() throws {
        var passive = Self.filled
        passive.progress = LSN("0/5000000")
        #expect(try StreamStart.decide(Self.request, passive: passive, active: Self.active) == .resume)
        var gone = Self.active
        gone.slot = nil
        #expect(Self.refusal(passive: passive, active: gone)?.problem.contains("the changes after 0/5000000 are gone") == true)
        var clean = Self.request
        (clean.initMode, clean.clean) = (.copy, true)
        #expect(try StreamStart.decide(clean, passive: passive, active: gone) == .copy(dropSlot: false))
        // A slot past the passive's progress was followed by something else: refused, unless vouched for.
        var followed = Self.active
        followed.slot?.confirmedFlush = LSN("0/5000100")
        #expect(throws: SlotMovedOn.self) { try StreamStart.decide(Self.request, passive: passive, active: followed) }
        var vouched = Self.request
        vouched.assumeInSync = true
        #expect(try StreamStart.decide(vouched, passive: passive, active: followed) == .inSync(createSlot: false))
        // --clean re-initialises even where progress exists (after a divergence, resuming would stop again).
        #expect(try StreamStart.decide(clean, passive: passive, active: Self.active) == .copy(dropSlot: true))
    }

    @Test func aSnapshotSlotThatDoesNotFitIsRefusedSayingWhy() throws {
        var used = Self.active
        used.slot?.confirmedFlush = LSN("0/3000100")
        #expect(Self.refusal(passive: Self.restored, active: used)?.problem.contains("used past its LSN 0/3000060") == true)

        var gone = Self.active
        gone.slot = nil
        #expect(Self.refusal(passive: Self.restored, active: gone)?.problem.contains("no longer on the active") == true)

        var otherCluster = Self.active
        otherCluster.systemIdentifier = "7400"
        #expect(Self.refusal(passive: Self.restored, active: otherCluster)?.problem.contains("another cluster") == true)

        var otherDatabase = Self.active
        otherDatabase.slot?.database = "billing"
        #expect(Self.refusal(passive: Self.restored, active: otherDatabase)?.problem.contains("not the one it kept") == true)

        var otherSlot = Self.request
        otherSlot.slot = "other"
        #expect(Self.refusal(otherSlot, passive: Self.restored)?.problem.contains("run with --slot continuity") == true)

        var otherPublication = Self.request
        otherPublication.publication = "mine"
        #expect(Self.refusal(otherPublication, passive: Self.restored)?.problem.contains("run with --publication continuity") == true)

        var noSlot = Self.restored
        noSlot.restore = RestoreRecord(snapshotID: "s", stack: "x", lsn: Self.snapshotLSN, slot: nil, sourceSystemIdentifier: "7300")
        #expect(Self.refusal(passive: noSlot)?.problem.contains("kept no slot") == true)
    }

    /// The defect itself: data, no progress, no snapshot slot. Refused, unless the operator
    /// vouches for the passive.
    @Test func aPassiveWithDataAndNothingToStartFromIsRefusedUnlessAssumedInSync() throws {
        let refused = Self.refusal(passive: Self.filled, active: .init(database: "orders", systemIdentifier: "7300", slot: nil))
        #expect(refused?.problem.contains("a stream from now would miss every write before now") == true)
        #expect(refused?.fix?.contains("--init copy") == true)
        #expect(refused?.fix?.contains("snapshot --slot continuity") == true)
        #expect(refused?.fix?.contains("--assume-in-sync") == true)
        // An existing slot nobody recorded progress for is no better.
        #expect(Self.refusal(passive: Self.filled) != nil)

        var assume = Self.request
        assume.assumeInSync = true
        #expect(try StreamStart.decide(assume, passive: Self.filled, active: .init(database: "orders", systemIdentifier: "7300", slot: nil))
                == .inSync(createSlot: true))
        #expect(try StreamStart.decide(assume, passive: Self.filled, active: Self.active) == .inSync(createSlot: false))
    }

    @Test func anEmptyPassiveWithoutInitCopyIsRefused() {
        let empty = StreamStart.Passive(progress: nil, restore: nil, contents: .init(userRelations: 0))
        let refused = Self.refusal(passive: empty, active: .init(database: "orders", systemIdentifier: "7300", slot: nil))
        #expect(refused?.problem.contains("nothing to stream into") == true)
        #expect(refused?.fix == "use --init copy")
    }

    @Test func initCopyNeedsAnEmptyPassiveAndNoSlotUnlessClean() throws {
        var copy = Self.request
        copy.initMode = .copy
        let empty = StreamStart.Passive(progress: nil, restore: nil, contents: .init(userRelations: 0))
        let noSlot = StreamStart.Active(database: "orders", systemIdentifier: "7300", slot: nil)
        #expect(try StreamStart.decide(copy, passive: empty, active: noSlot) == .copy(dropSlot: false))
        #expect(Self.refusal(copy, passive: Self.filled, active: noSlot)?.problem.contains("is not empty") == true)
        // The one emptiness rule (`TargetContents`): a publication alone is refused too, before the slot is made.
        let published = StreamStart.Passive(progress: nil, restore: nil, contents: .init(userRelations: 0, publications: 1))
        #expect(Self.refusal(copy, passive: published, active: noSlot)?.problem.contains("not empty (1 publications)") == true)
        #expect(Self.refusal(copy, passive: empty)?.fix?.contains("--clean") == true)
        copy.clean = true
        #expect(try StreamStart.decide(copy, passive: empty, active: Self.active) == .copy(dropSlot: true))
        #expect(try StreamStart.decide(copy, passive: Self.restored, active: Self.active) == .copy(dropSlot: true))
    }
}
