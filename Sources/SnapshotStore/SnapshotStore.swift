import OperatorErrors
import StoreKeys

/// Where snapshots live. One small interface, one driver per backend (`FileStore`, `S3Store`);
/// commands never know which one they hold.
///
/// The calls block: they are made from threads that may block (a connection's own thread
/// while it streams a COPY, or `Blocking.run` from async code), never the cooperative pool.
/// Keys are `/`-separated paths relative to the store's root.
public protocol SnapshotStore: Sendable {
    /// The store's URL for messages; never contains a secret.
    var location: String { get }
    /// A new object; invisible under `key` until `commit()`, and gone if never committed.
    func makeWriter(_ key: String) throws -> any ObjectWriter
    func makeReader(_ key: String) throws -> any ObjectReader
    /// Every object whose key starts with `prefix`, leftovers of interrupted writes included.
    func list(prefix: String) throws -> [StoredObject]
    func delete(_ key: String) throws
}

public protocol ObjectWriter: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Makes the object durable and visible under its key, whole or not at all.
    func commit() throws
    /// Drops what was written. Safe after a failed write.
    func abort()
}

public protocol ObjectReader: AnyObject {
    /// Appends up to `limit` bytes to `buffer`; returns false once the object is exhausted.
    func read(into buffer: inout [UInt8], limit: Int) throws -> Bool
}

public struct StoredObject: Equatable, Sendable {
    public let key: String
    public let size: Int64
    /// A write that never committed (a crash mid-snapshot); prune deletes these.
    public let isLeftover: Bool

    /// Refuses a key a leftover could be taken for, before anything is written.
    static func requireWritable(_ key: String) throws {
        if let marker = ReservedMarkers.all.first(where: { key.contains($0) }) {
            throw StoreError(.unsupported, "the object key \(key) contains '\(marker)', which the stores reserve for unfinished writes")
        }
    }

    public init(key: String, size: Int64, isLeftover: Bool) {
        self.key = key
        self.size = size
        self.isLeftover = isLeftover
    }
}

extension SnapshotStore {
    /// Writes a small object whole.
    public func put(_ key: String, _ bytes: [UInt8]) throws {
        let writer = try makeWriter(key)
        do {
            try bytes.withUnsafeBytes { try writer.write($0) }
            try writer.commit()
        } catch {
            writer.abort()
            throw error
        }
    }

    /// Reads a small object whole (manifests, schema files). An object larger than `limit` is
    /// refused as it is read, so a damaged or hostile store cannot exhaust memory.
    public func get(_ key: String, limit: Int = Int.max) throws -> [UInt8] {
        let reader = try makeReader(key)
        var bytes: [UInt8] = []
        while try reader.read(into: &bytes, limit: 1 << 20) {
            guard bytes.count <= limit else {
                throw StoreError(.io, "\(location)/\(key) holds more than the \(limit) bytes it may", fix: "the object is damaged; restore another snapshot")
            }
        }
        return bytes
    }
}

public struct StoreError: OperatorError, Equatable {
    public enum Kind: Sendable, Equatable {
        case notFound, io, unsupported, badURL
        /// The store refused who we are or what we named: credentials, bucket.
        case rejected
    }
    public let kind: Kind
    public let problem: String
    public let fix: String?

    public init(_ kind: Kind, _ problem: String, fix: String? = nil) {
        self.kind = kind
        self.problem = problem
        self.fix = fix
    }

    public var status: ExitStatus {
        switch kind {
        case .badURL, .unsupported, .rejected: .badInput
        case .notFound, .io: .failed
        }
    }
}
