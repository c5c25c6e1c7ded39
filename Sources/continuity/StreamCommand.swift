import ArgumentParser
import Foundation
import OperatorErrors
import PostgresClient
import PostgresTypes
import Streaming

struct Stream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tail the active's logical replication stream into the passive, exactly once; resumable.",
        subcommands: [StreamRun.self, StreamStatusCommand.self], defaultSubcommand: StreamRun.self)
}

/// Options both `stream` and `stream status` take.
struct StreamEndpoints: ParsableArguments {
    @Option(help: ArgumentHelp("The active node.", valueName: "dsn")) var source: String?
    @Option(help: ArgumentHelp("The passive node.", valueName: "dsn")) var target: String?
    @Option(help: ArgumentHelp("The logical slot on the active (default continuity).", valueName: "name")) var slot: String?

    func slotName(_ context: CommandContext) throws -> String {
        try context.slotName(flag: slot)
    }
}

struct StreamRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Follow the slot and apply it to the passive (the default: `continuity stream …`).",
        discussion: """
            A stream starts exactly where the passive's data ends: its progress for the slot; or, \
            for a passive restored from a snapshot taken with `snapshot --slot NAME`, that slot at \
            the snapshot's LSN (run with the same --slot); or --init copy, which creates the slot \
            with an exported snapshot and copies the schema and every table into the empty passive \
            under it first (re-running after a completed copy just resumes). Anything else is \
            refused (exit 3) unless --assume-in-sync. DDL is not streamed: a table whose columns \
            differ stops the stream and says how. Lost connections are retried with backoff for up \
            to 5 minutes.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var endpoints: StreamEndpoints
    @Option(help: ArgumentHelp("The publication (default continuity, FOR ALL TABLES).", valueName: "name")) var publication: String?
    @Option(help: ArgumentHelp("copy: copy the active's tables into the empty passive first; none (default): it has them, up to its progress or the LSN of the `snapshot --slot` it was restored from.",
                               valueName: "mode")) var `init`: String?
    @Flag(help: "With --init copy: drop what the passive holds, and a slot it never copied from, first.") var clean = false
    @Option(help: "Parallel connections for --init copy (default: the number of cores).") var jobs: Int?
    // Flag only, never from the config file or the environment: it vouches for the passive
    // at one moment, and a standing setting would silently lose the gap on every later run.
    @Flag(help: "The passive matches the active now (writes stopped): start a passive with no progress and no snapshot slot from a slot made now. Anything written before that is not carried.")
    var assumeInSync = false
    @Option(help: ArgumentHelp("caught-up or an LSN: stop there instead of running until interrupted.", valueName: "point")) var until: String?

    func run() async throws {
        try await CommandRunner.run("stream", common) { context in
            let settings = context.settings
            var options = StreamOptions(
                source: try context.dsn("source", flag: endpoints.source), target: try context.dsn("target", flag: endpoints.target),
                slot: try endpoints.slotName(context),
                publication: settings.string("publication", flag: publication) ?? "continuity",
                until: try Self.until(settings.string("until", flag: until)))
            let mode = settings.string("init", flag: `init`) ?? "none"
            guard let initMode = StreamOptions.InitMode(rawValue: mode) else {
                throw UsageError("--init \(mode) is not a mode", fix: "write --init copy (copy the tables first) or --init none (the passive has them)")
            }
            options.initMode = initMode
            options.clean = try settings.flag("clean", flag: clean)
            options.assumeInSync = assumeInSync
            options.jobs = try settings.integer("jobs", flag: jobs, range: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
            let stream = Task { [logger = context.logger] in try await StreamRunner.run(options, logger: logger) }
            let signals = TerminationSignals { [logger = context.logger] in
                logger.notice("stop signal received: stopping after what is in flight")
                stream.cancel()
            }
            let report = try await stream.value
            signals.stop()
            let copied = report.initialCopy.map { "copied \($0.rows) rows of \($0.tables) tables in \(String(format: "%.1f", $0.seconds)) s; " } ?? ""
            try context.emit(report, text: "slot \(report.slot): \(copied)applied up to \(report.appliedLSN), \(report.transactions) transactions (\(report.reason))")
            return .done
        }
    }

    static func until(_ text: String?) throws -> StreamOptions.Until {
        guard let text else { return .never }
        if text == "caught-up" { return .caughtUp }
        guard let lsn = LSN(text) else {
            throw UsageError("--until '\(text)' is neither caught-up nor an LSN", fix: "write --until caught-up or --until 0/16B3748")
        }
        return .lsn(lsn)
    }
}

struct StreamStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Where the stream stands: applied LSN, lag in bytes and seconds, rows/s, WAL held on the active.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var endpoints: StreamEndpoints

    func run() async throws {
        try await CommandRunner.run("stream status", common) { context in
            let status = try await StreamStatus.read(source: try context.dsn("source", flag: endpoints.source),
                                                     target: try context.dsn("target", flag: endpoints.target),
                                                     slot: try endpoints.slotName(context))
            try context.emit(status, text: Self.text(status))
            return .done
        }
    }

    static func text(_ status: StreamStatus) -> String {
        let running = status.streamingPid.map { "streaming (walsender pid \($0))" } ?? "not streaming"
        let seconds = status.lagSeconds.map { String(format: "%.1f s", $0) } ?? "unknown"
        return """
            slot \(status.slot): \(running), WAL \(status.walStatus)
              applied   \(status.appliedLSN ?? "nothing yet")\(status.lastAppliedAt.map { " at \($0)" } ?? ""); confirmed \(status.confirmedLSN); active at \(status.activeLSN)
              lag       \(status.lagBytes) bytes, \(seconds)
              rate      \(String(format: "%.0f", status.changesPerSecond)) rows/s
              WAL held  \(status.walHeldBytes) bytes on the active
              totals    \(status.transactionsApplied) transactions, \(status.changesApplied) row changes in all
            """
    }
}
