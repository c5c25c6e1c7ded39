import ArgumentParser
import OperatorErrors
import PostgresClient
import Streaming

struct Stream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tail the active's logical replication stream into the passive, exactly once; resumable.",
        discussion: """
            The passive must already hold the tables (--init none); --init copy is not built yet. \
            DDL is not streamed: a table whose columns differ stops the stream and says how.
            """)

    @OptionGroup var common: CommonOptions
    @Option(help: ArgumentHelp("The active node.", valueName: "dsn")) var source: String?
    @Option(help: ArgumentHelp("The passive node.", valueName: "dsn")) var target: String?
    @Option(help: ArgumentHelp("The logical slot on the active (default continuity).", valueName: "name")) var slot: String?
    @Option(help: ArgumentHelp("The publication (default continuity, FOR ALL TABLES).", valueName: "name")) var publication: String?
    @Option(help: ArgumentHelp("none: the passive already has the data (copy is not built yet).", valueName: "mode")) var `init`: String?
    @Option(help: ArgumentHelp("caught-up or an LSN: stop there instead of running until interrupted.", valueName: "point")) var until: String?

    func run() async throws {
        try await CommandRunner.run("stream", common) { context in
            let settings = context.settings
            let initMode = settings.string("init", flag: `init`) ?? "none"
            guard initMode == "none" else {
                throw UsageError("--init \(initMode) is not built yet", fix: "load the passive with `continuity restore` first, then stream with --init none")
            }
            let options = StreamOptions(
                source: try context.dsn("source", flag: source), target: try context.dsn("target", flag: target),
                slot: settings.string("slot", flag: slot) ?? "continuity",
                publication: settings.string("publication", flag: publication) ?? "continuity",
                until: try Self.until(settings.string("until", flag: until)))
            guard Connection.isValidSlotName(options.slot) else {
                throw UsageError("slot name '\(options.slot)' is not usable", fix: "use lower-case letters, digits and underscores (at most 63)")
            }
            try await StreamRunner.prepareSource(options)
            let stream = Task { [logger = context.logger] in try await StreamRunner.run(options, logger: logger) }
            let signals = TerminationSignals { stream.cancel() }
            let report = try await stream.value
            signals.stop()
            try context.emit(report, text: "slot \(report.slot): applied up to \(report.appliedLSN), \(report.transactions) transactions (\(report.reason))")
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
