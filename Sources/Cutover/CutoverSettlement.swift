import Applier
import Fencing
import Foundation
import Logging
import OperatorErrors
import PostgresClient
import Routing

/// Settles a cutover from its journal when its process is gone: the dead-man's switch does it
/// at `--max-pause` + 1 s, `cutover --recover` when an operator asks. The last record decides
/// (`CutoverState.recovery`), by the same rule the cutover follows for its own failures. Every
/// step is idempotent and tried even when one before it failed; the terminal record is written
/// only once clients were let through (forward: to a promoted passive), so an unsettled journal
/// stays unsettled. Forward, it then cleans up what the cutover would have: the forward slot,
/// and a reverse slot it cannot vouch for.
struct CutoverSettlement: Codable, Sendable {
    /// The journal's last record before settling (nil: no journal).
    let found: CutoverJournal?
    let recovery: String
    let done: [String]
    let problems: [String]

    var settled: Bool { problems.isEmpty }

    /// `reverseSlot`: the cutover was asked for `--reverse` with this slot.
    static func settle(source: ConnectionString, target: ConnectionString, slot: String, reverseSlot: String?, router: any Router,
                       store: CutoverJournalStore, by who: String, logger: Logger) async throws -> CutoverSettlement {
        // The file first: clients wait while this runs, and it needs no server. The passive's
        // copy decides only where there is no file (`--recover` on another machine). Settling
        // goes on without the passive: a rollback needs only the router and the active.
        let file = try store.readFile()
        // Connected when first needed: an unreachable passive would otherwise cost a connect timeout first.
        var passive: Connection?
        var triedPassive = false
        func passiveSession() async -> Connection? {
            if !triedPassive {
                triedPassive = true
                passive = try? await Connection.connect(target.overridingReadOnlyFence())
            }
            return passive
        }
        let last: CutoverJournal?
        if file.isEmpty {
            guard let session = await passiveSession() else {
                throw Failure("there is no journal file \(store.path) and the passive does not answer, so the journal cannot be read",
                              fix: "run --recover where the cutover ran (its --journal), or once the passive answers")
            }
            do {
                last = try await store.readTable(on: session).last
            } catch {
                await session.close()
                throw error
            }
        } else {
            last = file.last
        }
        var done: [String] = [], problems: [String] = []
        func step(_ name: String, _ work: () async throws -> Void) async -> Bool {
            do {
                try await work()
                done.append(name)
                logger.notice("\(who): \(name)")
                return true
            } catch {
                problems.append("\(name): \((error as? any OperatorError)?.problem ?? "\(error)")")
                logger.error("\(who): \(name) failed: \(error)")
                return false
            }
        }
        let recovery = CutoverJournal.recover(after: last)
        let from = last?.state.rawValue ?? "none"
        switch recovery {
        case .nothing:
            break
        case .rollBack:
            // The old active was fenced right after the pause: unfenced first, so the clients let
            // through write at once instead of meeting "read-only transaction" errors. Clients wait
            // meanwhile, so that first try is bounded (a connect and a statement of 2 s each); an
            // old active that does not answer by then is unfenced after the RESUME.
            let unfencedFirst = (try? await Connection.with(source.overridingReadOnlyFence(), options: .init(connectTimeout: 2)) { session in
                try await session.execute("SET statement_timeout = '2s'")
                try await CutoverNodes.unfence(session)
                return true
            }) ?? false
            if unfencedFirst { done.append("unfenced the old active") }
            let resumed = await step("let clients through to the old active (\(router.description))") { try await router.rollBack() }
            if !unfencedFirst {
                _ = await step("unfenced the old active") {
                    try await Connection.with(source.overridingReadOnlyFence()) { try await CutoverNodes.unfence($0) }
                }
            }
            if resumed {
                _ = await step("journalled failed") {
                    _ = try await store.append(CutoverJournal(state: .failed, time: Date(), cutoverLSN: last?.cutoverLSN,
                                                          reason: "rolled back by \(who) from \(from)"), passive: await passiveSession())
                }
            }
        case .rollForward:
            _ = await step("fenced the old active read-only") {
                try await Connection.with(source.overridingReadOnlyFence()) { try await CutoverNodes.fence($0) }
            }
            let promoted = await step("promoted the passive") {
                guard let passive = await passiveSession() else { throw Failure("the passive is unreachable", fix: "start it, then run `cutover --recover` again") }
                try await CutoverNodes.promote(passive, slot: slot)
            }
            _ = await step("repointed \(router.description)") { try await router.repoint() }
            let resumed = await step("let clients through to the new active") { try await router.resume() }
            // An unpromoted passive leaves the journal unsettled, so `--recover` tries again.
            if resumed, promoted {
                _ = await step("journalled resumed") {
                    _ = try await store.append(CutoverJournal(state: .resumed, time: Date(), cutoverLSN: last?.cutoverLSN,
                                                          reason: "rolled forward by \(who) from \(from)"), passive: await passiveSession())
                }
            }
            // The reverse slot is made after `promoted` and vouched for by the cutover before it
            // journals `repointed` (CutoverRunner). From `promoted`, one that exists may have been
            // made after clients were let through here, and a stream back from it would miss their
            // first writes. Preflight refused one that existed before, so this one is the cutover's.
            // Only now, while settling: later, a slot of that name may be a way back made by hand.
            if resumed, let reverseSlot, last?.state == .promoted {
                if let session = await passiveSession(), (try? await CutoverNodes.hasSlot(reverseSlot, on: session)) == true {
                    _ = await step("dropped reverse slot \(reverseSlot) on the new active: the cutover ended while making it, so it may start after clients' first writes there") {
                        try await CutoverNodes.dropSlot(reverseSlot, on: session)
                    }
                }
                done.append("the way back was not prepared: \(Self.wayBack)")
            }
            guard promoted else { break }
            await dropForwardSlot(slot, source: source, step: step)
        }
        // A cutover killed between journalling `resumed` and dropping its forward slot. Only while
        // the journal still describes these nodes: the old active fenced and the passive promoted
        // for the slot; otherwise a slot of that name serves a stream set up since.
        if recovery == .nothing, last?.state == .resumed, let session = await passiveSession(),
           (try? await StreamProgress.read(slot: slot, on: session))??.promotedAt != nil {
            await dropForwardSlot(slot, source: source, onlyWhileFenced: true, step: step)
        }
        await passive?.close()
        let name = switch recovery { case .nothing: "nothing"; case .rollBack: "roll back"; case .rollForward: "roll forward" }
        return CutoverSettlement(found: last, recovery: name, done: done, problems: problems)
    }

    /// What an operator does instead of `--reverse`.
    static let wayBack = "`snapshot --slot` of the new active, `restore --clean` into the old one, then stream"

    /// Once clients write to the new active, the forward slot is of no more use and would hold
    /// the old active's WAL for ever: dropped as the cutover itself drops it at its end. Looked
    /// for first, so a journal already settled reads "nothing" with nothing done; an old active
    /// that does not answer is left alone (a rolled-forward stack's old node is often gone for
    /// good, and the fence step has said so already when it is not). `onlyWhileFenced`: not
    /// once the old active is writable again (the slot may then serve a stream set up since).
    private static func dropForwardSlot(_ slot: String, source: ConnectionString, onlyWhileFenced: Bool = false,
                                        step: (String, () async throws -> Void) async -> Bool) async {
        guard let old = try? await Connection.connect(source.overridingReadOnlyFence()) else { return }
        var wanted = (try? await CutoverNodes.hasSlot(slot, on: old)) == true
        if wanted, onlyWhileFenced { wanted = (try? await ReadOnlyFence.isUp(on: old)) == true }
        if wanted {
            _ = await step("dropped the forward slot \(slot) on the old active") { try await CutoverNodes.dropSlot(slot, on: old) }
        }
        await old.close()
    }
}
