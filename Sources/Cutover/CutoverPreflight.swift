import Applier
import DatabaseCopy
import PostgresClient
import Routing

/// What preflight judges, read in one round of I/O (`read`); the rules (`findings`) are pure,
/// as `Preflight/NodeFacts` + `Rules` are for `check`.
struct CutoverFacts: Equatable, Sendable {
    /// The slot exists on the active.
    var slotExists: Bool
    /// A walsender follows the slot (a running `continuity stream`), and its replay lag in
    /// seconds (0 when PostgreSQL has none: caught up).
    var streamLagSeconds: Double?
    var streamRunning: Bool
    /// The passive's progress row for the slot: nil when it has none.
    var passiveHasProgress: Bool
    var passivePromoted: Bool
    /// Table → its columns as "name type", sorted, on each node (user schemas only).
    var activeTables: [String: [String]]
    var passiveTables: [String: [String]]
    var activeSequences: Set<String>
    var passiveSequences: Set<String>
    /// What the router's own checks found.
    var router: [String]
    /// What the cutover's role may do on each node.
    var activeRights = CutoverRights()
    var passiveRights = CutoverRights()
    /// `--reverse`: a slot of the reverse stream's name is on the passive already.
    var reverseSlotExists = false

    static func read(_ nodes: CutoverNodes, router: any Router, reverseSlot: String?) async throws -> CutoverFacts {
        // replay_lag keeps its last value while a stream stalls (a stopped process sends no
        // status); a stream reports at least every second, so one silent for longer than
        // `stalledAfter` (or that never reported, since it connected) lags by at least that long.
        let slot = try await nodes.active.query("""
            SELECT s.active_pid IS NOT NULL AS running,
                   (SELECT greatest(coalesce(extract(epoch FROM r.replay_lag)::float8, 0),
                                    CASE WHEN clock_timestamp() - coalesce(r.reply_time, r.backend_start) > interval '\(Self.stalledAfter) seconds'
                                         THEN extract(epoch FROM clock_timestamp() - coalesce(r.reply_time, r.backend_start))::float8 ELSE 0 END)
                    FROM pg_stat_replication r WHERE r.pid = s.active_pid) AS lag
            FROM pg_replication_slots s WHERE s.slot_name = $1
            """, [nodes.slot]).rows.first
        let running = slot?["running"] == "t"
        let progress = try await StreamProgress.read(slot: nodes.slot, on: nodes.passive)
        var reverseSlotExists = false
        if let reverseSlot { reverseSlotExists = try await CutoverNodes.hasSlot(reverseSlot, on: nodes.passive) }
        return CutoverFacts(
            slotExists: slot != nil, streamLagSeconds: running ? slot?["lag"].flatMap(Double.init) ?? 0 : nil, streamRunning: running,
            passiveHasProgress: progress != nil, passivePromoted: progress?.promotedAt != nil,
            activeTables: try await tables(nodes.active), passiveTables: try await tables(nodes.passive),
            activeSequences: try await sequences(nodes.active), passiveSequences: try await sequences(nodes.passive),
            router: await router.preflight(), activeRights: try await CutoverRights.read(nodes.active),
            passiveRights: try await CutoverRights.read(nodes.passive),
            reverseSlotExists: reverseSlotExists)
    }

    /// Seconds without a status update after which a running stream counts as stalled.
    static let stalledAfter = 5

    /// Everything that stops the cutover before anything changes, each naming what and where.
    func findings(slot: String, maxLag: Duration, reverseSlot: String? = nil) -> [String] {
        var found: [String] = []
        // Refused here, so that a reverse slot found after the promotion is always this cutover's
        // (settling drops one it cannot vouch for, `CutoverSettlement`).
        if let reverseSlot, reverseSlotExists { found.append("slot \(reverseSlot) for the reverse stream exists on the passive already") }
        if !slotExists { found.append("there is no slot \(slot) on the active: no stream feeds this passive") }
        if !passiveHasProgress { found.append("the passive has no progress for slot \(slot): it is not that stream's passive") }
        if passivePromoted { found.append("the passive was already promoted for slot \(slot) by an earlier cutover") }
        let limit = Double(maxLag.components.seconds) + Double(maxLag.components.attoseconds) / 1e18
        if let lag = streamLagSeconds, lag > limit {
            found.append(String(format: "the stream's lag is %.3f s, above --max-lag (%.3f s)", lag, limit))
        }
        for (table, columns) in activeTables.sorted(by: { $0.key < $1.key }) {
            guard let theirs = passiveTables[table] else {
                found.append("table \(table) exists on the active but not on the passive")
                continue
            }
            if theirs != columns {
                let missing = Set(columns).subtracting(theirs).sorted(), extra = Set(theirs).subtracting(columns).sorted()
                found.append("table \(table) differs: active has [\(missing.joined(separator: ", "))], passive has [\(extra.joined(separator: ", "))]")
            }
        }
        for table in Set(passiveTables.keys).subtracting(activeTables.keys).sorted() {
            found.append("table \(table) exists on the passive but not on the active")
        }
        for sequence in activeSequences.subtracting(passiveSequences).sorted() {
            found.append("sequence \(sequence) exists on the active but not on the passive")
        }
        return found + activeRights.activeFindings + passiveRights.passiveFindings + router
    }

    private static func tables(_ node: Connection) async throws -> [String: [String]] {
        let rows = try await node.query("""
            SELECT format('%I.%I', n.nspname, c.relname) AS name,
                   coalesce((SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), E'\\n' ORDER BY a.attname)
                             FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') AS columns
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND \(UserSchemas.ownRelation)
            """).rows
        var tables: [String: [String]] = [:]
        for row in rows {
            guard let name = row["name"] else { continue }
            tables[name] = (row["columns"] ?? "").split(separator: "\n").map(String.init).sorted()
        }
        return tables
    }

    private static func sequences(_ node: Connection) async throws -> Set<String> {
        Set(try await UserSchemas.relationNames(node, where: "c.relkind = 'S'"))
    }
}
