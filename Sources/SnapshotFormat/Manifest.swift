import Foundation
import PostgresTypes

/// `manifest.json`, snapshot format version 1 (see the README). Written last: a snapshot without
/// it does not exist. Everything restore and verify need is here; nothing secret is.
public struct Manifest: Codable, Equatable, Sendable {
    public static let currentFormatVersion = 1

    public var formatVersion: Int
    public var toolVersion: String
    public var stack: String
    public var id: SnapshotID
    public var startedAt: Date
    public var finishedAt: Date
    public var source: Source
    /// The exported snapshot's WAL position: a stream started here loses and repeats nothing.
    public var lsn: LSN
    /// As given on the command line, e.g. `gzip:1`.
    public var compression: String
    public var schema: SchemaFiles
    public var tables: [Table]
    public var sequences: [Sequence]
    /// Materialized views that held data on the source. pg_dump's schema creates them empty;
    /// restore refreshes these. Absent in manifests that predate it: read as none.
    public var materializedViews: [Relation]
    /// How writes were fenced before the snapshot, if they were: the source was left that way.
    public var fence: String?
    /// The persistent logical slot the snapshot was taken through (`snapshot --slot`), if any.
    /// Absent in manifests that predate it, or without `--slot`.
    public var slot: KeptSlot?

    /// A slot whose consistent point is `lsn`: it keeps the WAL from there for a stream into a
    /// database restored from this snapshot, through `publication`, which existed before the
    /// slot (pgoutput reads publications as of each change: one made later is not found).
    public struct KeptSlot: Codable, Equatable, Sendable {
        public var name: String
        public var publication: String

        public init(name: String, publication: String) {
            self.name = name
            self.publication = publication
        }
    }

    /// The source's large objects, when it had any (`LargeObjects`). Absent: none.
    public var largeObjects: LargeObjects?

    public struct Source: Codable, Equatable, Sendable {
        public var serverVersion: String
        public var serverVersionNumber: Int
        public var systemIdentifier: String
        public var database: String

        public init(serverVersion: String, serverVersionNumber: Int, systemIdentifier: String, database: String) {
            self.serverVersion = serverVersion
            self.serverVersionNumber = serverVersionNumber
            self.systemIdentifier = systemIdentifier
            self.database = database
        }
    }

    public struct SchemaFiles: Codable, Equatable, Sendable {
        public var preData: StoredFile
        public var postData: StoredFile

        public init(preData: StoredFile, postData: StoredFile) {
            self.preData = preData
            self.postData = postData
        }
    }

    /// One stored object and what its bytes must hash to.
    public struct StoredFile: Codable, Equatable, Sendable {
        public var path: String
        public var bytes: Int64
        public var sha256: String

        public init(path: String, bytes: Int64, sha256: String) {
            self.path = path
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    public struct Table: Codable, Equatable, Sendable {
        public var oid: UInt32
        public var schema: String
        public var name: String
        /// The columns COPY carried, in order (generated columns are left out).
        public var columns: [String]
        public var rows: Int64
        public var parts: [Part]

        public init(oid: UInt32, schema: String, name: String, columns: [String], rows: Int64, parts: [Part]) {
            self.oid = oid
            self.schema = schema
            self.name = name
            self.columns = columns
            self.rows = rows
            self.parts = parts
        }
    }

    public struct Part: Codable, Equatable, Sendable {
        public var index: Int
        public var path: String
        public var rows: Int64
        /// Bytes of COPY text before compression.
        public var rawBytes: Int64
        public var storedBytes: Int64
        public var sha256: String

        public init(index: Int, path: String, rows: Int64, rawBytes: Int64, storedBytes: Int64, sha256: String) {
            self.index = index
            self.path = path
            self.rows = rows
            self.rawBytes = rawBytes
            self.storedBytes = storedBytes
            self.sha256 = sha256
        }
    }

    public struct Sequence: Codable, Equatable, Sendable {
        public var schema: String
        public var name: String
        public var lastValue: Int64
        public var isCalled: Bool

        public init(schema: String, name: String, lastValue: Int64, isCalled: Bool) {
            self.schema = schema
            self.name = name
            self.lastValue = lastValue
            self.isCalled = isCalled
        }
    }

    public struct Relation: Codable, Equatable, Sendable {
        public var schema: String
        public var name: String

        public init(schema: String, name: String) {
            self.schema = schema
            self.name = name
        }
    }

    public struct Totals: Codable, Equatable, Sendable {
        public var tables: Int
        public var parts: Int
        public var rows: Int64
        public var rawBytes: Int64
        public var storedBytes: Int64
    }

    /// Derived from the tables, and written into the JSON for people and scripts reading it.
    public var totals: Totals {
        let parts = tables.flatMap(\.parts)
        return Totals(tables: tables.count, parts: parts.count, rows: tables.reduce(0) { $0 + $1.rows },
                      rawBytes: parts.reduce(0) { $0 + $1.rawBytes },
                      storedBytes: parts.reduce(0) { $0 + $1.storedBytes } + schema.preData.bytes + schema.postData.bytes
                          + (largeObjects.map { $0.metadata.storedBytes + $0.data.storedBytes } ?? 0))
    }

    public init(formatVersion: Int = Manifest.currentFormatVersion, toolVersion: String, stack: String, id: SnapshotID,
                startedAt: Date, finishedAt: Date, source: Source, lsn: LSN, compression: String,
                schema: SchemaFiles, tables: [Table], sequences: [Sequence], materializedViews: [Relation] = [],
                fence: String?, slot: KeptSlot? = nil, largeObjects: LargeObjects? = nil) {
        self.formatVersion = formatVersion
        self.toolVersion = toolVersion
        self.stack = stack
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.source = source
        self.lsn = lsn
        self.compression = compression
        self.schema = schema
        self.tables = tables
        self.sequences = sequences
        self.materializedViews = materializedViews
        self.fence = fence
        self.slot = slot
        self.largeObjects = largeObjects
    }

    private enum CodingKeys: String, CodingKey {
        case formatVersion, toolVersion, stack, id, startedAt, finishedAt, source, lsn, compression, schema,
             tables, sequences, materializedViews, fence, slot, totals, largeObjects
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        guard formatVersion == Self.currentFormatVersion else {
            throw DecodingError.dataCorruptedError(forKey: .formatVersion, in: container,
                debugDescription: "format version \(formatVersion) is not one this continuity reads (1)")
        }
        toolVersion = try container.decode(String.self, forKey: .toolVersion)
        stack = try container.decode(String.self, forKey: .stack)
        id = try container.decode(SnapshotID.self, forKey: .id)
        startedAt = try container.decode(Date.self, forKey: .startedAt)
        finishedAt = try container.decode(Date.self, forKey: .finishedAt)
        source = try container.decode(Source.self, forKey: .source)
        lsn = try container.decode(LSN.self, forKey: .lsn)
        compression = try container.decode(String.self, forKey: .compression)
        schema = try container.decode(SchemaFiles.self, forKey: .schema)
        tables = try container.decode([Table].self, forKey: .tables)
        sequences = try container.decode([Sequence].self, forKey: .sequences)
        materializedViews = try container.decodeIfPresent([Relation].self, forKey: .materializedViews) ?? []
        fence = try container.decodeIfPresent(String.self, forKey: .fence)
        slot = try container.decodeIfPresent(KeptSlot.self, forKey: .slot)
        largeObjects = try container.decodeIfPresent(LargeObjects.self, forKey: .largeObjects)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(toolVersion, forKey: .toolVersion)
        try container.encode(stack, forKey: .stack)
        try container.encode(id, forKey: .id)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(source, forKey: .source)
        try container.encode(lsn, forKey: .lsn)
        try container.encode(compression, forKey: .compression)
        try container.encode(schema, forKey: .schema)
        try container.encode(tables, forKey: .tables)
        try container.encode(sequences, forKey: .sequences)
        try container.encode(materializedViews, forKey: .materializedViews)
        try container.encodeIfPresent(fence, forKey: .fence)
        try container.encodeIfPresent(slot, forKey: .slot)
        try container.encodeIfPresent(largeObjects, forKey: .largeObjects)
        try container.encode(totals, forKey: .totals)
    }
}

/// The manifest's JSON form: snake_case keys, ISO 8601 times, stable key order.
public enum ManifestCodec {
    public static func encode(_ manifest: Manifest) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(manifest))
    }

    public static func decode(_ bytes: [UInt8]) throws -> Manifest {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        let manifest = try decoder.decode(Manifest.self, from: Data(bytes))
        try manifest.validate()
        return manifest
    }
}
