import DatabaseCopy
import Foundation
import Logging
import OperatorErrors
import PostgresClient
import ProgressDisplay

public struct CopyOptions: Sendable {
    public var source: ConnectionString
    public var target: ConnectionString
    /// An exported snapshot (from `CREATE_REPLICATION_SLOT … (SNAPSHOT 'export')`), kept alive by its owner.
    public var snapshot: String
    public var jobs: Int
    /// Drop what the passive holds first, instead of refusing a non-empty one.
    public var clean: Bool
    /// Parts of about 64 MiB of heap, as snapshots use (`SnapshotOptions.blocksPerPart`).
    public var blocksPerPart: Int64 = 8192

    public init(source: ConnectionString, target: ConnectionString, snapshot: String, jobs: Int, clean: Bool) {
        self.source = source
        self.target = target
        self.snapshot = snapshot
        self.jobs = jobs
        self.clean = clean
    }
}

/// The copy was stopped (SIGTERM) before it finished: the passive holds part of the data.
public struct InitialCopyInterrupted: OperatorError {
    public init() {}
    public var status: ExitStatus { .failed }
    public var problem: String { "the initial copy was stopped before it finished; the passive holds only part of the data" }
    public var fix: String? { "re-run with --init copy --clean: it drops what the copy left, and the slot, and starts over" }
}

public struct CopyReport: Codable, Sendable, Equatable {
    public let tables: Int
    public let rows: Int64
    public let bytes: Int64
    public let seconds: Double
}

/// `stream --init copy`: the schema and every table of the active, as one exported snapshot
/// sees them, into an empty passive, in parallel and with no store in between: the same steps
/// as a snapshot and a restore (pre-data, parts by block range, post-data built in parallel
/// with ANALYZE, sequences, materialized views), piped from one connection to another.
public enum InitialCopy {
    /// A `TableRewrittenUnderSnapshot` means the caller should take a new snapshot; the target
    /// then holds a partial copy, which a new run with `clean` replaces.
    public static func run(_ options: CopyOptions, logger: Logger) async throws -> CopyReport {
        let started = ContinuousClock.now
        async let preDump = SchemaDump.text(.preData, source: options.source, snapshot: options.snapshot)
        async let postDump = SchemaDump.text(.postData, source: options.source, snapshot: options.snapshot)
        let (tables, sequences, views) = try await Connection.with(options.source) { source in
            try await source.beginSnapshotTransaction(importing: options.snapshot)
            return (try await SourceInventory.tables(source), try await SourceInventory.sequenceValues(source),
                    try await SourceInventory.populatedMaterializedViews(source))
        }
        let preData = SchemaScript(dumped: try await preDump)
        try await Connection.with(options.target) { target in
            try await TargetPreparation.prepare(target, clean: options.clean, needs: preData.extensions)
            try await target.execute(preData.sql)
        }

        let parts = TablePart.parts(of: tables, blocksPerPart: options.blocksPerPart, jobs: options.jobs)
        logger.info("copying \(tables.count) tables in \(parts.count) parts with \(options.jobs) jobs into \(options.target.shortDescription)")
        let progress = ProgressMeter(verb: "copy", totalBytes: parts.reduce(0) { $0 + $1.blocks } * 8192,
                                     parts: Dictionary(parts.map { ($0.table.displayName, 1) }, uniquingKeysWith: +), logger: logger)
        let moved = try await transfer(parts, of: tables, options: options, progress: progress)
        progress.finish()
        try Task.checkCancellation()
        let postData = SchemaScript(dumped: try await postDump)

        logger.info("building indexes and constraints")
        let loaded = tables.map { PostDataBuilder.LoadedTable(schema: $0.schema, name: $0.name, size: $0.blocks) }
        try await PostDataBuilder.run(postData, analyzing: loaded, target: options.target, jobs: options.jobs)
        try await Connection.with(options.target) { target in
            try await DataFinishing.setSequences(sequences, on: target)
            try await DataFinishing.refresh(views, on: target)
        }
        return CopyReport(tables: tables.count, rows: moved.rows, bytes: moved.bytes, seconds: (ContinuousClock.now - started).seconds)
    }

    /// `jobs` workers, each with a session on the active (inside the snapshot) and one on the
    /// passive, take parts from one queue, largest tables first (`SnapshotSessions`).
    private static func transfer(_ parts: [TablePart], of tables: [SourceInventory.Table], options: CopyOptions,
                                 progress: ProgressMeter) async throws -> (rows: Int64, bytes: Int64) {
        let moved = try await SnapshotSessions.copy(parts, of: tables, from: options.source, snapshot: options.snapshot, jobs: options.jobs,
                                                    within: { (loop: @escaping @Sendable (Connection) async throws -> [CopySummary]) in
            try await Connection.with(options.target) { target in
                try await FanOut.prepareTarget(target)
                return try await loop(target)
            }
        }) { part, source, target -> CopySummary in
            let summary = try await PartTransfer.run(part, from: source, to: target, progress: progress)
            progress.finishedPart(of: part.table.displayName, rows: summary.rows, bytes: summary.bytes)
            return summary
        }
        return moved.reduce(into: (0, 0)) { $0 = ($0.rows + $1.rows, $0.bytes + $1.bytes) }
    }
}
