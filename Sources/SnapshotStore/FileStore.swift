import Foundation
import StoreKeys

/// `file:///dir`: objects are files under a root directory.
///
/// A writer fills `<key>.partial-<random>`, then fsyncs it, renames it to `<key>` and fsyncs
/// the directory, so after a crash an object is either whole under its name or a leftover
/// that `list` flags and prune removes — never a half file that looks whole.
public struct FileStore: SnapshotStore {
    static let leftoverMarker = ReservedMarkers.partial
    public let root: String

    public init(root: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreError(.notFound, "the store directory \(root) does not exist",
                             fix: "create it (mkdir -p \(root)) or give another --store")
        }
        self.root = root
    }

    public var location: String { "file://\(root)" }

    func path(_ key: String) -> String { "\(root)/\(key)" }

    public func makeWriter(_ key: String) throws -> any ObjectWriter {
        try StoredObject.requireWritable(key)
        return try FileObjectWriter(final: path(key), location: location, key: key)
    }

    public func makeReader(_ key: String) throws -> any ObjectReader {
        let descriptor = open(path(key), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw StoreError(.notFound, "\(location)/\(key) does not exist") }
            throw StoreError(.io, "cannot read \(location)/\(key): \(String(cString: strerror(errno)))")
        }
        return FileObjectReader(descriptor: descriptor, name: "\(location)/\(key)")
    }

    public func list(prefix: String) throws -> [StoredObject] {
        let base = URL(fileURLWithPath: root)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey]) else {
            throw StoreError(.io, "cannot list \(location)")
        }
        var objects: [StoredObject] = []
        let rootPath = base.standardizedFileURL.path + "/"
        for case let url as URL in walker {
            let values = try url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey])
            guard values.isRegularFile == true else { continue }
            let key = String(url.standardizedFileURL.path.dropFirst(rootPath.count))
            guard key.hasPrefix(prefix) else { continue }
            objects.append(StoredObject(key: key, size: Int64(values.fileSize ?? 0),
                                        isLeftover: key.split(separator: "/").last?.contains(Self.leftoverMarker) == true))
        }
        return objects.sorted { $0.key < $1.key }
    }

    public func delete(_ key: String) throws {
        guard unlink(path(key)) == 0 || errno == ENOENT else {
            throw StoreError(.io, "cannot delete \(location)/\(key): \(String(cString: strerror(errno)))")
        }
        // Empty directories of a pruned snapshot go too; failure just means something is left in them.
        var directory = (path(key) as NSString).deletingLastPathComponent
        while directory.count > root.count, rmdir(directory) == 0 {
            directory = (directory as NSString).deletingLastPathComponent
        }
    }
}

final class FileObjectWriter: ObjectWriter {
    private let final: String
    private let temporary: String
    private let name: String
    private var descriptor: Int32

    init(final: String, location: String, key: String) throws {
        self.final = final
        self.name = "\(location)/\(key)"
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        temporary = final + FileStore.leftoverMarker + suffix
        let directory = (final as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.io, "cannot create \(directory): \(error.localizedDescription)")
        }
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError(.io, "cannot create \(name): \(String(cString: strerror(errno)))") }
    }

    deinit { abort() }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw StoreError(.io, "cannot write \(name): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    func commit() throws {
        guard fsync(descriptor) == 0 else { throw StoreError(.io, "cannot flush \(name) to disk: \(String(cString: strerror(errno)))") }
        close(descriptor)
        descriptor = -1
        guard rename(temporary, final) == 0 else { throw StoreError(.io, "cannot rename into \(name): \(String(cString: strerror(errno)))") }
        let directory = open((final as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    func abort() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
        unlink(temporary)
    }
}

final class FileObjectReader: ObjectReader {
    private var descriptor: Int32
    private let name: String

    init(descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Reads into scratch memory and appends what came: growing the array by `limit` zeros
    /// first went element by element, seconds per call in a debug build.
    func read(into buffer: inout [UInt8], limit: Int) throws -> Bool {
        let (count, error) = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: limit) { scratch in
            let count = Foundation.read(descriptor, scratch.baseAddress!, limit)
            let error = errno
            if count > 0 { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<count])) }
            return (count, error)
        }
        guard count >= 0 else { throw StoreError(.io, "cannot read \(name): \(String(cString: strerror(error)))") }
        return count > 0
    }
}
