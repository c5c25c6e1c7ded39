import Compression
import DatabaseCopy
import Fencing
import Foundation
import Logging
import OperatorErrors
import Parallelism
import ProgressDisplay
import PostgresClient
import SnapshotFormat
import SnapshotStore

public struct SnapshotOptions: Sendable {
    public var source: ConnectionString
    public var store: any SnapshotStore
    public var stack: String
    public var jobs: Int
    public var codec: Codec
    public var fence: Fence = .none
    /// At most 8192 blocks of 8 KiB: parts of up to 64 MiB of heap, cut equal and in a multiple
    /// of `jobs` (`PartPlan`). Measured on pgbench scale 30 with two jobs: 128 MiB parts cut the
    /// 400 MB accounts table into three big parts, one job loaded two of them while the other
    /// idled, and restore took 4 s to load instead of ~2.5 s.
    public var blocksPerPart: Int64 = 8192
    /// How long the temporary slot that gives the exact LSN may wait for transactions already
    /// running on the source before the snapshot goes ahead without it (`SnapshotPoint`); with
    /// `keepSlot`, before the snapshot fails.
    public var exactPointWait: Duration = .seconds(10)
    /// `--slot NAME`: take the snapshot through a persistent slot of that name, kept at the
    /// snapshot's LSN for a stream into a database restored from it, through the publication.
    public var keepSlot: Manifest.KeptSlot?
    public var toolVersion: String

    public init(source: ConnectionString, store: any SnapshotStore, stack: String, jobs: Int, codec: Codec, toolVersion: String) {
        self.source = source
        self.store = store
        self.stack = stack
        self.jobs = jobs
        self.codec = codec
        self.toolVersion = toolVersion
    }
}

/// `continuity snapshot`: every COPY and both pg_dump runs read one exported snapshot; parts
/// go to the store in parallel; the manifest is written last, so until it exists the
/// snapshot does not either. On failure what was written is removed (best effort; `snapshots
/// prune` removes anything a crash leaves).
public enum SnapshotRunner {
    public static func take(_ options: SnapshotOptions, logger: Logger) async throws -> Manifest {
        // Before the fence: a refusal must leave the source as it was.
        try await Connection.with(options.source) { try await $0.requireConvertibleEncoding() }
        if let undo = try await options.fence.apply(to: options.source) {
            logger.notice("writes to \(options.source.shortDescription) are fenced (\(options.fence.name)) and stay fenced; to undo: \(undo)")
        }
        return try await SnapshotTableLocks.retrying { _ in
            try await takeOnce(options, logger: logger)
        } rewritten: { error, last in
            if !last { logger.notice("\(error.table) was truncated or rewritten as the snapshot was taken; taking another") }
        }
    }

    private static func takeOnce(_ options: SnapshotOptions, logger: Logger) async throws -> Manifest {
        let startedAt = Date()
        let layout = SnapshotLayout(stack: options.stack, id: SnapshotID.new(at: startedAt))
        let point: SnapshotPoint? = if let slot = options.keepSlot {
            try await SnapshotPoint.viaKeptSlot(slot, on: options.source, waitLimit: options.exactPointWait)
        } else {
            await SnapshotPoint.viaTemporarySlot(options.source, waitLimit: options.exactPointWait, logger: logger)
        }
        let coordinator: Connection
        do {
            coordinator = try await Connection.connect(options.source)
        } catch {
            await point?.abandon(on: options.source, logger: logger)
            throw error
        }
        do {
            let manifest = try await take(options, layout: layout, startedAt: startedAt, point: point,
                                          coordinator: coordinator, logger: logger)
            await coordinator.close()
            await point?.release()
            return manifest
        } catch {
            await coordinator.close()
            await point?.abandon(on: options.source, logger: logger)
            try? await Blocking.run { [store = options.store] in
                for key in layout.deletionOrder(try store.list(prefix: layout.directory + "/").map(\.key)) { try store.delete(key) }
            }
            if Task.isCancelled { throw SnapshotInterrupted(keptSlot: options.keepSlot?.name) }
            throw error
        }
    }

    private static func take(_ options: SnapshotOptions, layout: SnapshotLayout, startedAt: Date, point: SnapshotPoint?,
                             coordinator: Connection, logger: Logger) async throws -> Manifest {
        try await coordinator.beginSnapshotTransaction(importing: point?.snapshot)
        let head = try await coordinator.query("""
            SELECT \(point == nil ? "pg_export_snapshot()" : "NULL") AS snapshot,
                   CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END AS lsn,
                   current_database() AS database, current_setting('server_version') AS version,
                   current_setting('server_version_num')::int AS version_number,
                   (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier
            """).rows[0]
        let snapshot: String = try point?.snapshot ?? head.decode("snapshot")
        let tables = try await SourceInventory.tables(coordinator)
        let sequences = try await SourceInventory.sequenceValues(coordinator)
        let materializedViews = try await SourceInventory.populatedMaterializedViews(coordinator)

        let work = TablePart.parts(of: tables, blocksPerPart: options.blocksPerPart, jobs: options.jobs)
        let progress = ProgressMeter(verb: "snapshot", totalBytes: work.reduce(0) { $0 + $1.blocks } * 8192,
                                     parts: Dictionary(work.map { ($0.table.displayName, 1) }, uniquingKeysWith: +), logger: logger)
        defer { progress.finish() }
        logger.info("snapshot \(layout.id) of \(options.source.shortDescription): \(tables.count) tables in \(work.count) parts, \(options.jobs) jobs, \(options.codec)")

        async let preData = SchemaDump.dump(.preData, source: options.source, snapshot: snapshot,
                                            store: options.store, key: layout.preData)
        async let postData = SchemaDump.dump(.postData, source: options.source, snapshot: snapshot,
                                             store: options.store, key: layout.postData)
        // The coordinator holds the snapshot and is otherwise idle while the parts are copied.
        async let largeObjects = LargeObjectCopy.copy(on: coordinator, layout: layout, codec: options.codec,
                                                      store: options.store, progress: progress)
        let parts = try await copyParts(work, of: tables, options: options, layout: layout, snapshot: snapshot, progress: progress)
        let schema = Manifest.SchemaFiles(preData: try await preData, postData: try await postData)

        let manifest = Manifest(
            toolVersion: options.toolVersion, stack: options.stack, id: layout.id, startedAt: startedAt, finishedAt: Date(),
            source: .init(serverVersion: try head.decode("version"), serverVersionNumber: try head.decode("version_number"),
                          systemIdentifier: try head.decode("system_identifier"), database: try head.decode("database")),
            lsn: try point?.lsn ?? head.decode("lsn"), compression: options.codec.description, schema: schema,
            tables: tables.map { table in
                let tableParts = parts.filter { $0.oid == table.oid }.sorted { $0.part.index < $1.part.index }.map(\.part)
                return Manifest.Table(oid: table.oid, schema: table.schema, name: table.name, columns: table.columns,
                                      rows: tableParts.reduce(0) { $0 + $1.rows }, parts: tableParts)
            },
            sequences: sequences, materializedViews: materializedViews,
            fence: options.fence == .none ? nil : options.fence.name, slot: point?.keptSlot,
            largeObjects: try await largeObjects)
        let encoded = try ManifestCodec.encode(manifest)
        try await Blocking.run { [store = options.store] in try store.put(layout.manifest, encoded) }
        try await coordinator.execute("COMMIT")
        return manifest
    }

    /// `jobs` sessions on the exported snapshot take parts from one queue (`SnapshotSessions`).
    private static func copyParts(_ work: [TablePart], of tables: [SourceInventory.Table], options: SnapshotOptions,
                                  layout: SnapshotLayout, snapshot: String,
                                  progress: ProgressMeter) async throws -> [(oid: UInt32, part: Manifest.Part)] {
        try await SnapshotSessions.copy(work, of: tables, from: options.source, snapshot: snapshot, jobs: options.jobs,
                                        within: { try await $0(()) }) { job, connection, _ in
            let key = layout.part(table: job.table.oid, index: job.index, fileExtension: options.codec.fileExtension)
            let output = try await PartCopier.copy(job.table.copyOutSQL(where: job.condition), on: connection, codec: options.codec,
                                                   store: options.store, key: key, progress: progress)
            progress.finishedPart(of: job.table.displayName, rows: output.rows, bytes: output.rawBytes)
            return (job.table.oid, Manifest.Part(index: job.index, path: key, rows: output.rows, rawBytes: output.rawBytes,
                                                 storedBytes: output.storedBytes, sha256: output.sha256))
        }
    }
}

/// The snapshot was stopped (SIGTERM, SIGINT) before its manifest was written: what it had
/// written was removed, and the slot it was keeping (`--slot`) was dropped.
public struct SnapshotInterrupted: OperatorError {
    public let keptSlot: String?
    public var status: ExitStatus { .failed }
    public var problem: String {
        "the snapshot was stopped before it finished; its objects were removed" + (keptSlot.map { " and slot \($0) dropped" } ?? "")
    }
    public var fix: String? { "run it again when it may finish (a fence it put up stays up)" }
}
