import Compression
import DatabaseCopy
import Foundation
import Logging
import OperatorErrors
import Parallelism
import PostgresClient
import ProgressDisplay
import SnapshotCatalog
import SnapshotFormat
import SnapshotStore

public struct RestoreOptions: Sendable {
    public var target: ConnectionString
    public var store: any SnapshotStore
    public var stack: String
    /// An id or `latest`.
    public var snapshot: String
    public var jobs: Int
    public var clean: Bool
    public var toolVersion: String

    public init(target: ConnectionString, store: any SnapshotStore, stack: String, snapshot: String,
                jobs: Int, clean: Bool, toolVersion: String) {
        self.target = target
        self.store = store
        self.stack = stack
        self.snapshot = snapshot
        self.jobs = jobs
        self.clean = clean
        self.toolVersion = toolVersion
    }
}

/// `continuity restore`: pre-data schema, verified parts in parallel, post-data (indexes,
/// constraints, triggers), sequences, ANALYZE, and a row in `continuity.restores` saying
/// which snapshot this database came from (`RestoreRecord`).
public enum RestoreRunner {
    @discardableResult
    public static func restore(_ options: RestoreOptions, logger: Logger) async throws -> Manifest {
        let catalog = SnapshotCatalog(store: options.store)
        let manifest = try await Blocking.run {
            let id = try catalog.resolve(options.snapshot, stack: options.stack)
            return try catalog.manifest(id, stack: options.stack)
        }
        guard let codec = try? Codec(parsing: manifest.compression) else {
            throw Failure("snapshot \(manifest.id) uses compression \(manifest.compression), which this continuity cannot read",
                          fix: "restore it with the continuity version that took it (\(manifest.toolVersion))")
        }
        let store = options.store
        let preData = try await Blocking.run { try SchemaScript.read(manifest.schema.preData, from: store) }
        let postData = try await Blocking.run { try SchemaScript.read(manifest.schema.postData, from: store) }

        // Held while the restore runs: the agent's scheduler snapshots no database being
        // restored (half its data would become the stack's newest snapshot), and a second
        // restore into it is refused.
        return try await Connection.with(options.target) { marker in
            guard try await marker.query("SELECT pg_try_advisory_lock(\(RestoreRecord.inProgressLock), hashtext(current_database()))").scalar(Bool.self) else {
                throw Refusal("another restore into \(options.target.shortDescription) is under way",
                              fix: "wait for it to end, then run restore again if its database is not what you want")
            }
            try await write(manifest, preData: preData, postData: postData, codec: codec, options: options, logger: logger)
            return manifest
        }
    }

    private static func write(_ manifest: Manifest, preData: SchemaScript, postData: SchemaScript, codec: Codec,
                              options: RestoreOptions, logger: Logger) async throws {
        try await Connection.with(options.target) { target in
            try await TargetPreparation.prepare(target, clean: options.clean, needs: preData.extensions)
            logger.info("restoring snapshot \(manifest.id) of stack \(manifest.stack) (\(manifest.totals.rows) rows in \(manifest.totals.parts) parts) into \(options.target.shortDescription)")
            try await target.execute(preData.sql)
        }
        try await loadParts(manifest, options: options, codec: codec, logger: logger)
        if let largeObjects = manifest.largeObjects {
            logger.info("restoring \(largeObjects.count) large objects")
            let progress = ProgressMeter(verb: "large objects", totalBytes: largeObjects.data.rawBytes, parts: [:], logger: logger)
            defer { progress.finish() }
            try await Connection.with(options.target) { target in
                try await LargeObjectLoader.load(largeObjects, on: target, codec: codec, store: options.store, progress: progress)
            }
        }
        logger.info("building indexes and constraints")
        // The planner needs statistics before the first query.
        let loaded = manifest.tables.map { PostDataBuilder.LoadedTable(schema: $0.schema, name: $0.name, size: $0.rows) }
        try await PostDataBuilder.run(postData, analyzing: loaded, target: options.target, jobs: options.jobs)
        try await Connection.with(options.target) { target in
            try await DataFinishing.setSequences(manifest.sequences, on: target)
            try await DataFinishing.refresh(manifest.materializedViews, on: target)
            try await RestoreRecord.record(manifest, store: options.store.location, toolVersion: options.toolVersion, on: target)
        }
    }

    private static func loadParts(_ manifest: Manifest, options: RestoreOptions, codec: Codec, logger: Logger) async throws {
        let work = manifest.tables.flatMap { table in table.parts.map { (table: table, part: $0) } }
            .sorted { $0.part.storedBytes > $1.part.storedBytes }
        let progress = ProgressMeter(verb: "restore", totalBytes: manifest.totals.rawBytes,
                                     parts: Dictionary(work.map { ("\($0.table.schema).\($0.table.name)", 1) }, uniquingKeysWith: +),
                                     logger: logger)
        defer { progress.finish() }
        try await FanOut.forEach(work, target: options.target, jobs: options.jobs) { item, connection in
            try await PartLoader.load(item.part, into: item.table, on: connection, codec: codec, store: options.store, progress: progress)
            progress.finishedPart(of: "\(item.table.schema).\(item.table.name)", rows: item.part.rows, bytes: item.part.rawBytes)
        }
    }
}
