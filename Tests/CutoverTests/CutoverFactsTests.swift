@testable import Cutover
import Testing

/// Preflight's rules on facts, no server: each finding names what and where.
@Suite struct CutoverFactsTests {
    static let ready = CutoverFacts(
        slotExists: true, streamLagSeconds: 0.02, streamRunning: true, passiveHasProgress: true, passivePromoted: false,
        activeTables: ["public.a": ["id integer", "v text"], "public.b": ["id bigint"]],
        passiveTables: ["public.a": ["id integer", "v text"], "public.b": ["id bigint"]],
        activeSequences: ["public.a_id_seq"], passiveSequences: ["public.a_id_seq"], router: [])

    @Test func matchingNodesWithASmallLagPass() {
        #expect(Self.ready.findings(slot: "s", maxLag: .seconds(1)).isEmpty)
    }

    @Test func everyMismatchIsNamed() {
        var facts = Self.ready
        facts.streamLagSeconds = 2.5
        facts.activeTables["public.c"] = ["id integer"]
        facts.passiveTables["public.a"] = ["id integer", "v character varying"]
        facts.passiveTables["public.z"] = ["id integer"]
        facts.activeSequences.insert("public.c_id_seq")
        facts.router = ["the config line for app is missing"]
        let found = facts.findings(slot: "s", maxLag: .seconds(1))
        #expect(found == [
            "the stream's lag is 2.500 s, above --max-lag (1.000 s)",
            "table public.a differs: active has [v text], passive has [v character varying]",
            "table public.c exists on the active but not on the passive",
            "table public.z exists on the passive but not on the active",
            "sequence public.c_id_seq exists on the active but not on the passive",
            "the config line for app is missing",
        ])
    }

    /// A role that is not a superuser must still be able to do each step, on the node it is done on.
    @Test func whatTheRoleMayNotDoIsNamed() {
        var facts = Self.ready
        facts.activeRights = CutoverRights(superuser: false, ownsDatabase: false, signalsBackends: false, replication: false,
                                           emitsMessages: false, sequencesNotUpdatable: ["public.a_id_seq"])
        facts.passiveRights = CutoverRights(superuser: false, sequencesNotUpdatable: ["public.a_id_seq", "public.b_id_seq"])
        let found = facts.findings(slot: "s", maxLag: .seconds(1))
        #expect(found.count == 5)
        #expect(found.contains { $0.contains("ALTER DATABASE") } && found.contains { $0.contains("pg_signal_backend") })
        #expect(found.last == "the role may not set these sequences on the passive (UPDATE): public.a_id_seq, public.b_id_seq")
        facts.activeRights = CutoverRights(superuser: false)
        facts.passiveRights = CutoverRights(superuser: true, sequencesNotUpdatable: ["public.a_id_seq"])
        #expect(facts.findings(slot: "s", maxLag: .seconds(1)).isEmpty, "an owner with the rights, and a superuser, may")
    }

    @Test func aPassiveThatIsNotTheStreamsOrWasPromotedIsRefused() {
        var facts = Self.ready
        facts.slotExists = false
        facts.passiveHasProgress = false
        facts.passivePromoted = true
        #expect(facts.findings(slot: "s", maxLag: .seconds(1)).count == 3)
    }

    /// Any reverse slot found after the promotion must be the cutover's own (settling drops one
    /// it cannot vouch for), so one already there is refused; without --reverse it is no matter.
    @Test func aReverseSlotAlreadyThereIsRefused() {
        var facts = Self.ready
        facts.reverseSlotExists = true
        #expect(facts.findings(slot: "s", maxLag: .seconds(1), reverseSlot: "s_reverse")
                == ["slot s_reverse for the reverse stream exists on the passive already"])
        #expect(facts.findings(slot: "s", maxLag: .seconds(1)).isEmpty)
        facts.reverseSlotExists = false
        #expect(facts.findings(slot: "s", maxLag: .seconds(1), reverseSlot: "s_reverse").isEmpty)
    }
}
