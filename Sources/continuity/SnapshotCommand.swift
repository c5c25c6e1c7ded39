import ArgumentParser
import Compression
import Fencing
import Foundation
import OperatorErrors
import PostgresClient
import PostgresTypes
import ProgressDisplay
import SnapshotFormat
import SnapshotStore
import Snapshotting

struct Snapshot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take a consistent, compressed, verifiable snapshot into a store; prints its id.")

    @OptionGroup var common: CommonOptions
    @Option(help: ArgumentHelp("The node to snapshot.", valueName: "dsn")) var source: String?
    @Option(help: ArgumentHelp("file:///dir or s3://bucket/prefix?endpoint=…&region=…", valueName: "url")) var store: String?
    @Option(help: ArgumentHelp("The stack the snapshot belongs to.", valueName: "name")) var stack: String?
    @Option(help: "Parallel connections (default: the number of cores).") var jobs: Int?
    @Option(help: ArgumentHelp("gzip[:LEVEL 1-9] (default gzip:1), zstd[:LEVEL 1-19] (default zstd:1) or none.", valueName: "codec")) var compression: String?
    @Option(help: ArgumentHelp("Stop writes first and leave them stopped: readonly, pgbouncer or none (default).", valueName: "fence")) var fence: String?
    @Option(help: ArgumentHelp("PgBouncer's admin console, for --fence pgbouncer.", valueName: "dsn")) var pgbouncerAdmin: String?
    // Flag only, never the config file's `slot` (the stream's): a snapshot scheduled from the
    // config would otherwise try to remake the same slot every time, and be refused.
    @Option(help: ArgumentHelp("Keep a logical slot of this name at the snapshot's exact LSN, so `stream --slot NAME` into a database restored from it misses nothing. It holds WAL on the source until a stream uses it or it is dropped.",
                               valueName: "name")) var slot: String?
    @Option(help: ArgumentHelp("With --slot: the publication the stream will read through (default continuity, FOR ALL TABLES); made now if missing, since a slot cannot decode through one made after it.",
                               valueName: "name")) var publication: String?

    func run() async throws {
        try await CommandRunner.run("snapshot", common, stack: stack) { context in
            let settings = context.settings
            let source = try context.dsn("source", flag: source)
            let stack = try settings.required("stack", flag: stack)
            try SnapshotLayout.validate(stack: stack)
            let codec = try Codec(parsing: settings.string("compression", flag: compression) ?? "gzip")
            let jobs = try settings.integer("jobs", flag: jobs, range: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
            let fence = try Fence(parsing: settings.string("fence", flag: fence) ?? "none",
                                  pgbouncerAdmin: try context.optionalDSN("pgbouncer-admin", flag: pgbouncerAdmin))
            let store = try StoreURL.open(try settings.required("store", flag: store))
            if let slot { _ = try CommandContext.usableSlot(slot) }

            let started = ContinuousClock.now
            var options = SnapshotOptions(source: source, store: store, stack: stack, jobs: jobs, codec: codec,
                                          toolVersion: ContinuityVersion.current)
            options.fence = fence
            options.keepSlot = slot.map { .init(name: $0, publication: settings.string("publication", flag: publication) ?? "continuity") }
            // SIGTERM or SIGINT stops it cleanly: COPYs cancelled, objects removed, a kept slot
            // dropped (the default action would leave the slot holding WAL on the source).
            let snapshot = Task { [options, logger = context.logger] in try await SnapshotRunner.take(options, logger: logger) }
            let signals = TerminationSignals { [logger = context.logger] in
                logger.notice("stop signal received: stopping the snapshot and removing what it wrote")
                snapshot.cancel()
            }
            defer { signals.stop() }
            let manifest = try await snapshot.value
            let report = SnapshotReport(manifest: manifest, store: store.location, seconds: (ContinuousClock.now - started).seconds)
            try context.emit(report, text: report.text)
            return .done
        }
    }
}

/// What `snapshot` prints: the id first (scripts take the first line), then the figures.
struct SnapshotReport: Encodable {
    let id: String
    let stack: String
    let store: String
    let lsn: String
    let tables: Int
    let rows: Int64
    let rawBytes: Int64
    let storedBytes: Int64
    /// The fence left standing on the source, if any.
    let fence: String?
    /// The slot kept at `lsn` (`--slot`), if any.
    let slot: String?
    let seconds: Double

    init(manifest: Manifest, store: String, seconds: Double) {
        let totals = manifest.totals
        id = manifest.id.rawValue
        stack = manifest.stack
        self.store = store
        lsn = manifest.lsn.description
        tables = totals.tables
        rows = totals.rows
        rawBytes = totals.rawBytes
        storedBytes = totals.storedBytes
        fence = manifest.fence
        slot = manifest.slot?.name
        self.seconds = seconds
    }

    var text: String {
        """
        \(id)
        snapshot \(id) of stack \(stack) in \(store): \(tables) tables, \(rows) rows, \
        \(rawBytes / 1_000_000) MB → \(storedBytes / 1_000_000) MB stored, LSN \(lsn), \(String(format: "%.1f", seconds)) s
        """ + (fence.map { "\nthe source was left fenced (\($0)): writes stay stopped" } ?? "")
            + (slot.map { "\nslot \($0) is kept at \(lsn) on the source: it holds WAL there until a stream uses it or it is dropped" } ?? "")
    }
}
