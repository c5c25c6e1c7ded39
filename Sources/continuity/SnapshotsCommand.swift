import ArgumentParser
import ContinuityConfig
import Foundation
import OperatorErrors
import Parallelism
import ProgressDisplay
import SnapshotCatalog
import SnapshotFormat
import SnapshotStore

struct Snapshots: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The catalogue of snapshots: list, show, verify, prune.",
        subcommands: [List.self, Show.self, Verify.self, Prune.self])

    struct StoreOptions: ParsableArguments {
        @Option(help: ArgumentHelp("Where the snapshots are.", valueName: "url")) var store: String?
        @Option(help: ArgumentHelp("The stack whose snapshots to use.", valueName: "name")) var stack: String?

        func open(_ settings: Settings) throws -> (catalog: SnapshotCatalog, stack: String) {
            let stack = try settings.required("stack", flag: stack)
            try SnapshotLayout.validate(stack: stack)
            return (SnapshotCatalog(store: try StoreURL.open(try settings.required("store", flag: store))), stack)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a stack's snapshots, newest first, with size, age and LSN.")
        @OptionGroup var common: CommonOptions
        @OptionGroup var location: StoreOptions

        func run() async throws {
            try await CommandRunner.run("snapshots list", common, stack: location.stack) { context in
                let (catalog, stack) = try location.open(context.settings)
                let manifests = try await Blocking.run {
                    try catalog.ids(stack: stack).reversed().map { try catalog.manifest($0, stack: stack) }
                }
                let rows = manifests.map(SnapshotSummary.init)
                try context.emit(rows, text: SnapshotSummary.table(rows, stack: stack, store: catalog.store.location))
                return .done
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one snapshot's manifest (--json prints it whole).")
        @OptionGroup var common: CommonOptions
        @OptionGroup var location: StoreOptions
        @Argument(help: "The snapshot id, or latest.") var id: String = "latest"

        func run() async throws {
            try await CommandRunner.run("snapshots show", common, stack: location.stack) { context in
                let (catalog, stack) = try location.open(context.settings)
                let manifest = try await Blocking.run { [id] in try catalog.manifest(catalog.resolve(id, stack: stack), stack: stack) }
                try context.emit(manifest, text: ManifestPrinter.text(manifest))
                return .done
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-read every object of a snapshot and check sizes, checksums and row counts.",
            discussion: "Exit 1 if anything does not match; each problem names the object.")
        @OptionGroup var common: CommonOptions
        @OptionGroup var location: StoreOptions
        @Argument(help: "The snapshot id, latest, or all (the default).") var id: String = "all"

        func run() async throws {
            try await CommandRunner.run("snapshots verify", common, stack: location.stack) { context in
                let (catalog, stack) = try location.open(context.settings)
                let results = try await Blocking.run { [id] in
                    let ids = id == "all" ? try catalog.ids(stack: stack) : [try catalog.resolve(id, stack: stack)]
                    return try ids.map { id in
                        VerifyResult(id: id.rawValue, problems: SnapshotVerifier.verify(try catalog.manifest(id, stack: stack), in: catalog.store))
                    }
                }
                if results.isEmpty {
                    throw UsageError("no snapshot of stack \(stack) in \(catalog.store.location)", fix: "check --store and --stack")
                }
                try context.emit(results, text: results.map(\.text).joined(separator: "\n"))
                return results.allSatisfy { $0.problems.isEmpty } ? .done : .failed
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete all but the newest N complete snapshots, and leftovers of interrupted ones.",
            discussion: "The newest complete snapshot is never deleted. Snapshots without a manifest count as leftovers once they are a day old.")
        @OptionGroup var common: CommonOptions
        @OptionGroup var location: StoreOptions
        @Option(help: "How many complete snapshots to keep (at least 1).") var keep: Int?

        func run() async throws {
            try await CommandRunner.run("snapshots prune", common, stack: location.stack) { context in
                let (catalog, stack) = try location.open(context.settings)
                guard let keep = try context.settings.integer("keep", flag: keep, range: 1...100_000) else {
                    throw UsageError.missing("keep")
                }
                let (plan, slots) = try await Blocking.run {
                    let store = catalog.store
                    let plan = Retention.plan(objects: try store.list(prefix: "\(stack)/"), stack: stack, keep: keep, now: Date())
                    // Prune knows the store, not the source: it names the slots of the snapshots it
                    // deletes (`snapshot --slot`) for the operator to drop there, never drops them.
                    let slots = plan.expired.compactMap { try? catalog.manifest($0, stack: stack).slot?.name }
                    for key in plan.keys { try store.delete(key) }
                    return (plan, slots)
                }
                let report = PruneReport(deleted: plan.expired.map(\.rawValue), leftovers: plan.leftovers, objects: plan.keys.count,
                                         slotsLeft: slots)
                try context.emit(report, text: report.text)
                return .done
            }
        }
    }
}

struct SnapshotSummary: Encodable {
    let id: String
    let finishedAt: Date
    let lsn: String
    let tables: Int
    let rows: Int64
    let storedBytes: Int64

    init(_ manifest: Manifest) {
        id = manifest.id.rawValue
        finishedAt = manifest.finishedAt
        lsn = manifest.lsn.description
        tables = manifest.totals.tables
        rows = manifest.totals.rows
        storedBytes = manifest.totals.storedBytes
    }

    static func table(_ rows: [SnapshotSummary], stack: String, store: String) -> String {
        guard !rows.isEmpty else { return "no snapshots of stack \(stack) in \(store)" }
        let header = ["ID", "AGE", "SIZE", "TABLES", "ROWS", "LSN"]
        let lines = rows.map { [$0.id, age(since: $0.finishedAt), megabytes($0.storedBytes), "\($0.tables)", "\($0.rows)", $0.lsn] }
        let widths = header.indices.map { column in ([header] + lines).map { $0[column].count }.max()! }
        return ([header] + lines).map { cells in
            let line = cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            return String(line.reversed().drop(while: { $0 == " " }).reversed())
        }.joined(separator: "\n")
    }

    static func age(since date: Date) -> String {
        let seconds = Int(Date().timeIntervalSince(date))
        switch seconds {
        case ..<120: return "\(seconds)s"
        case ..<7200: return "\(seconds / 60)m"
        case ..<172_800: return "\(seconds / 3600)h"
        default: return "\(seconds / 86400)d"
        }
    }
}


enum ManifestPrinter {
    static func text(_ manifest: Manifest) -> String {
        let totals = manifest.totals
        var lines = [
            "snapshot \(manifest.id) of stack \(manifest.stack)",
            "  source       \(manifest.source.database) on PostgreSQL \(manifest.source.serverVersion), system \(manifest.source.systemIdentifier)",
            "  taken        \(manifest.startedAt) – \(manifest.finishedAt) by continuity \(manifest.toolVersion)",
            "  LSN          \(manifest.lsn)",
        ]
        if let slot = manifest.slot {
            lines.append("  slot         \(slot.name) (publication \(slot.publication)), kept on the source at the LSN: it holds WAL there until a stream uses it or it is dropped")
        }
        lines += [
            "  compression  \(manifest.compression)",
            "  totals       \(totals.tables) tables, \(totals.parts) parts, \(totals.rows) rows, \(megabytes(totals.rawBytes)) raw, \(megabytes(totals.storedBytes)) stored",
            "  tables",
        ]
        for table in manifest.tables {
            let raw = table.parts.reduce(0) { $0 + $1.rawBytes }, stored = table.parts.reduce(0) { $0 + $1.storedBytes }
            lines.append("    \(table.schema).\(table.name): \(table.rows) rows in \(table.parts.count) parts, \(megabytes(raw)) → \(megabytes(stored))")
        }
        if let largeObjects = manifest.largeObjects {
            let stored = largeObjects.metadata.storedBytes + largeObjects.data.storedBytes
            lines.append("  large objects \(largeObjects.count), \(megabytes(stored)) stored")
        }
        if !manifest.sequences.isEmpty {
            lines.append("  sequences")
            lines += manifest.sequences.map { "    \($0.schema).\($0.name) = \($0.lastValue)\($0.isCalled ? "" : " (not yet called)")" }
        }
        return lines.joined(separator: "\n")
    }
}

struct VerifyResult: Encodable {
    let id: String
    let problems: [SnapshotVerifier.Problem]

    var text: String {
        problems.isEmpty ? "\(id): ok" : (["\(id): DAMAGED"] + problems.map { "  \($0.path): \($0.reason)" }).joined(separator: "\n")
    }
}

struct PruneReport: Encodable {
    let deleted: [String]
    let leftovers: [String]
    let objects: Int
    /// Slots the deleted snapshots kept on their source: still there, holding WAL.
    let slotsLeft: [String]

    var text: String {
        if deleted.isEmpty && leftovers.isEmpty { return "nothing to prune" }
        return (deleted.map { "deleted snapshot \($0)" } + leftovers.map { "deleted leftover \($0)" } + ["\(objects) objects deleted"]
                + slotsLeft.map { "slot \($0) of a deleted snapshot is still on the source and holds WAL there: unless a stream uses it, SELECT pg_drop_replication_slot('\($0)')" })
            .joined(separator: "\n")
    }
}
