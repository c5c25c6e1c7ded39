import Foundation
import Logging
import OperatorErrors
import Parallelism
import PostgresClient
import Routing

/// The dead-man's switch: a process of its own (`continuity cutover watchdog`), started before
/// the pause, in a session of its own so neither a `kill -9` of the cutover nor a Ctrl-C to
/// its terminal ends it. It watches the journal file; if no terminal record (`resumed`,
/// `failed`) is there `--max-pause` + 1 s after the cutover started it, it settles the cutover
/// from the journal (`CutoverSettlement`): PgBouncer's own PAUSE would hold clients for ever.
public enum CutoverWatchdog {
    /// What the watchdog is handed, on its standard input (it may hold passwords, which must
    /// not appear in a process's arguments).
    struct Orders: Codable {
        var source: String
        var target: String
        var router: RouterSpec
        var slot: String
        var reverseSlot: String?
        var journalPath: String
        var patienceMilliseconds: Int64
        /// When to settle, on CLOCK_MONOTONIC: counted from the cutover's start of the watchdog,
        /// not from the watchdog's own start, which a loaded machine can delay by seconds.
        var settleAtNanoseconds: Int64
    }

    /// Starts the watchdog; it is counting once this returns.
    static func start(_ options: CutoverOptions) throws -> ChildProcess {
        let patience = options.maxPause + .seconds(1)
        let orders = Orders(source: options.source.conninfo, target: options.target.conninfo, router: options.router,
                            slot: options.slot, reverseSlot: options.reverseSlot, journalPath: absolute(options.journalPath),
                            patienceMilliseconds: patience.components.seconds * 1000 + patience.components.attoseconds / 1_000_000_000_000_000,
                            settleAtNanoseconds: monotonicNanoseconds() + patience.components.seconds * 1_000_000_000
                                + patience.components.attoseconds / 1_000_000_000)
        // This very binary, even if a package upgrade has replaced or removed its path meanwhile.
        let executable = "/proc/self/exe"
        // Blocked from its first instruction: a SIGTERM in the moment before the watchdog's own
        // code ignores it (seen under load) would otherwise end it, and clients would stay paused.
        return try ChildProcess(executable: executable, arguments: ["cutover", "watchdog"], environment: ProcessInfo.processInfo.environment,
                                standardInput: Array(try JSONEncoder().encode(orders)), newSession: true,
                                blockedSignals: [SIGTERM, SIGINT, SIGHUP],
                                standardOutput: .discard, standardError: .file(absolute(options.journalPath) + ".watchdog.log"))
    }

    /// The watchdog's own run: returns what it did (nil: the cutover ended by itself).
    public static func run(orders data: Data, logger: Logger) async throws -> String? {
        let orders: Orders
        do {
            orders = try JSONDecoder().decode(Orders.self, from: data)
        } catch {
            throw UsageError("the watchdog's orders on standard input cannot be read", fix: "it is started by `continuity cutover`, not by hand")
        }
        let store = CutoverJournalStore(path: orders.journalPath, slot: orders.slot)
        let (left, overflow) = orders.settleAtNanoseconds.subtractingReportingOverflow(monotonicNanoseconds())
        let deadline = ContinuousClock.now + .nanoseconds(overflow ? 0 : max(0, left))
        while ContinuousClock.now < deadline {
            if let last = try? store.readFile().last, [.resumed, .failed].contains(last.state) { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        if let last = try? store.readFile().last, [.resumed, .failed].contains(last.state) { return nil }
        let source = try ConnectionString(orders.source), target = try ConnectionString(orders.target)
        let router = try orders.router.makeRouter(from: RouterNode(source), to: RouterNode(target))
        logger.warning("no terminal journal record within \(orders.patienceMilliseconds) ms: settling the cutover")
        let settlement = try await CutoverSettlement.settle(source: source, target: target, slot: orders.slot, reverseSlot: orders.reverseSlot, router: router,
                                                            store: store, by: "the dead-man's switch", logger: logger)
        return "\(settlement.recovery): \(settlement.done.joined(separator: "; "))"
            + (settlement.problems.isEmpty ? "" : "; problems: " + settlement.problems.joined(separator: "; "))
    }

    /// CLOCK_MONOTONIC, which every process on the machine reads alike (a ContinuousClock
    /// instant cannot be handed to another process).
    private static func monotonicNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
