import ArgumentParser
import Foundation
import ProgressDisplay
import Restoring
import SnapshotFormat
import SnapshotStore

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a snapshot into an empty database, verifying every part before it commits.",
        discussion: "A non-empty target is refused (exit 3) unless --clean, which drops every user schema first.")

    @OptionGroup var common: CommonOptions
    @Option(help: ArgumentHelp("The database to load into.", valueName: "dsn")) var target: String?
    @Option(help: ArgumentHelp("Where the snapshots are.", valueName: "url")) var store: String?
    @Option(help: ArgumentHelp("Whose snapshot to restore.", valueName: "name")) var stack: String?
    @Option(help: ArgumentHelp("A snapshot id, or latest (the default).", valueName: "id")) var snapshot: String?
    @Option(help: "Parallel connections (default: the number of cores).") var jobs: Int?
    @Flag(help: "Drop what the target database holds first.") var clean = false

    func run() async throws {
        try await CommandRunner.run("restore", common, stack: stack) { context in
            let settings = context.settings
            let target = try context.dsn("target", flag: target)
            let stack = try settings.required("stack", flag: stack)
            try SnapshotLayout.validate(stack: stack)
            let store = try StoreURL.open(try settings.required("store", flag: store))
            let options = RestoreOptions(
                target: target, store: store, stack: stack,
                snapshot: settings.string("snapshot", flag: snapshot) ?? "latest",
                jobs: try settings.integer("jobs", flag: jobs, range: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount,
                clean: try settings.flag("clean", flag: clean), toolVersion: ContinuityVersion.current)
            let started = ContinuousClock.now
            let manifest = try await RestoreRunner.restore(options, logger: context.logger)
            let report = RestoreReport(manifest: manifest, target: target.description, seconds: (ContinuousClock.now - started).seconds)
            try context.emit(report, text: report.text)
            return .done
        }
    }
}

struct RestoreReport: Encodable {
    let id: String
    let stack: String
    let target: String
    let lsn: String
    let tables: Int
    let rows: Int64
    let seconds: Double

    init(manifest: Manifest, target: String, seconds: Double) {
        id = manifest.id.rawValue
        stack = manifest.stack
        self.target = target
        lsn = manifest.lsn.description
        tables = manifest.totals.tables
        rows = manifest.totals.rows
        self.seconds = seconds
    }

    var text: String {
        "restored snapshot \(id) of stack \(stack) into \(target): \(tables) tables, \(rows) rows, \(String(format: "%.1f", seconds)) s"
    }
}
