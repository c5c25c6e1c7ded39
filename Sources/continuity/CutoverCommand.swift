import ArgumentParser
import ContinuityConfig
import Cutover
import Foundation
import Logging
import OperatorErrors
import PostgresClient
import PostgresTypes
import Routing
import Streaming

struct Cutover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pause writes, let the passive catch up, promote it, repoint traffic; journalled, with a dead-man's switch.",
        subcommands: [CutoverRun.self, CutoverStatus.self, CutoverWatchdogCommand.self], defaultSubcommand: CutoverRun.self)
}

/// Options every cutover subcommand that touches the nodes takes.
struct CutoverEndpoints: ParsableArguments {
    @Option(help: ArgumentHelp("The active node, whose clients move.", valueName: "dsn")) var source: String?
    @Option(help: ArgumentHelp("The passive node to promote.", valueName: "dsn")) var target: String?
    @Option(help: ArgumentHelp("The slot whose stream feeds the passive (default continuity).", valueName: "name")) var slot: String?
    @Option(help: ArgumentHelp("The local journal file (default continuity-cutover-SLOT.journal here).", valueName: "path")) var journal: String?

    func slotName(_ context: CommandContext) throws -> String {
        try context.slotName(flag: slot)
    }

    func journalPath(_ context: CommandContext, slot: String) -> String {
        context.settings.string("journal", flag: journal) ?? CutoverOptions.defaultJournalPath(slot: slot)
    }
}

struct CutoverRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Cut over from the active to the passive (the default: `continuity cutover …`).",
        discussion: """
            States: preflight → fenced → caught-up → sequences-synced → promoted → repointed → resumed, \
            each journalled before it is acted on. A failure before promoted, or --max-pause running \
            out, rolls back (the old active keeps the writes, exit 1); from promoted on the new active \
            is the truth and the rest is finished. Refused in preflight (nothing changed): exit 3. A \
            watchdog process resumes clients if this one dies; --recover settles a half-done cutover.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var endpoints: CutoverEndpoints
    @Option(help: ArgumentHelp("pgbouncer, none, or command:PATH.", valueName: "router")) var router: String?
    @Option(help: ArgumentHelp("PgBouncer's admin console.", valueName: "dsn")) var pgbouncerAdmin: String?
    @Option(help: ArgumentHelp("The PgBouncer ini file (or one it %includes) holding the database's line.", valueName: "path"))
    var pgbouncerConfig: String?
    @Option(help: ArgumentHelp("The line's name under [databases] (default: the source's dbname).", valueName: "name"))
    var pgbouncerDatabase: String?
    @Option(help: ArgumentHelp("The publication (default continuity).", valueName: "name")) var publication: String?
    @Option(help: ArgumentHelp("Longest pause clients may see before a rollback (default 2s).", valueName: "duration")) var maxPause: String?
    @Option(help: ArgumentHelp("Most the stream may lag for the cutover to start (default 1s).", valueName: "duration")) var maxLag: String?
    @Flag(help: "Prepare a stream back from the new active into the old one, starting exactly at the cutover.") var reverse = false
    @Option(help: ArgumentHelp("The reverse stream's slot (default: the slot's name + _reverse).", valueName: "name")) var reverseSlot: String?
    @Flag(help: "Settle a half-done cutover from its journal (same options), and report what was found and done.") var recover = false

    func run() async throws {
        try await CommandRunner.run("cutover", common) { context in
            let options = try options(context)
            if recover {
                let settled = try await CutoverRunner.recover(options, logger: context.logger)
                try context.emit(settled, text: settled.text)
                return settled.settled ? .done : .failed
            }
            let stream = StreamOptions(source: options.source, target: options.target, slot: options.slot,
                                       publication: options.publication, until: .never)
            let (report, error) = try await CutoverRunner.run(options, follow: { [logger = context.logger] in
                _ = try await StreamRunner.run(stream, logger: logger)
            }, logger: context.logger)
            try context.emit(report, text: report.text)
            guard let error else { return .done }
            CommandRunner.report(error, command: "cutover", json: false)
            return error.status
        }
    }

    private func options(_ context: CommandContext) throws -> CutoverOptions {
        let settings = context.settings
        let source = try context.dsn("source", flag: endpoints.source), target = try context.dsn("target", flag: endpoints.target)
        let slot = try endpoints.slotName(context)
        guard let routerText = settings.string("router", flag: router) else { throw UsageError.missing("router") }
        let spec = try RouterSpec(parsing: routerText, pgbouncerAdmin: settings.string("pgbouncer-admin", flag: pgbouncerAdmin),
                                  pgbouncerConfig: settings.string("pgbouncer-config", flag: pgbouncerConfig),
                                  pgbouncerDatabase: settings.string("pgbouncer-database", flag: pgbouncerDatabase),
                                  sourceDatabase: source["dbname"] ?? source["user"] ?? "postgres")
        var options = CutoverOptions(source: source, target: target, router: spec, slot: slot,
                                     publication: settings.string("publication", flag: publication) ?? "continuity",
                                     journalPath: endpoints.journalPath(context, slot: slot))
        options.maxPause = try DurationText.parse(settings.string("max-pause", flag: maxPause) ?? "2s", option: "max-pause")
        options.maxLag = try DurationText.parse(settings.string("max-lag", flag: maxLag) ?? "1s", option: "max-lag")
        guard options.maxPause >= .milliseconds(100), options.maxPause <= .seconds(3600) else {
            throw UsageError("--max-pause must be between 100ms and 1h",
                             fix: "give the pause room for PAUSE, the catch-up and RESUME, e.g. 2s; clients wait that long at most")
        }
        if reverse || settings.string("reverse-slot", flag: reverseSlot) != nil {
            let name = settings.string("reverse-slot", flag: reverseSlot) ?? String((slot + "_reverse").prefix(63))
            guard name != slot else {
                throw UsageError("reverse slot name '\(name)' is the forward slot's", fix: "name another with --reverse-slot")
            }
            options.reverseSlot = try CommandContext.usableSlot(name, what: "reverse slot name")
        }
        return options
    }
}

struct CutoverStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print the cutover journal: the local file, or the passive's copy where there is none.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var endpoints: CutoverEndpoints

    func run() async throws {
        try await CommandRunner.run("cutover status", common) { context in
            let slot = try endpoints.slotName(context)
            let records = try await CutoverRunner.journal(path: endpoints.journalPath(context, slot: slot), slot: slot,
                                                          target: try context.optionalDSN("target", flag: endpoints.target))
            let last = records.last.map { "settle by: \(CutoverJournal.recover(after: $0))" } ?? "no cutover journalled"
            try context.emit(records, text: (records.map(\.description) + [last]).joined(separator: "\n"))
            return .done
        }
    }
}

/// The dead-man's switch, started by `cutover` itself with its orders on standard input.
struct CutoverWatchdogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watchdog", abstract: "The cutover's dead-man's switch (started by cutover).",
                                                    shouldDisplay: false)

    @OptionGroup var common: CommonOptions

    func run() async throws {
        // A dead-man's switch outlives what stops everything else: a service manager's or a
        // container's SIGTERM to the group, a closed terminal. Only SIGKILL ends it early:
        // SIGTERM, SIGINT and SIGHUP are ignored from before main on (CWatchdogSignals); again
        // here, should it ever be started in a shape that constructor does not recognise.
        for number in [SIGTERM, SIGINT, SIGHUP] { signal(number, SIG_IGN) }
        try await CommandRunner.run("cutover watchdog", common) { context in
            let orders = FileHandle.standardInput.readDataToEndOfFile()
            if let done = try await CutoverWatchdog.run(orders: orders, logger: context.logger) {
                context.logger.notice("settled: \(done)")
            }
            return .done
        }
    }
}
