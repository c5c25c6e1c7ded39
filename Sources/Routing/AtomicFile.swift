import Foundation
#if canImport(Glibc)
import Glibc
#endif
import OperatorErrors

/// Replacing a file's content so that a reader (PgBouncer on RELOAD) sees the old file or the
/// new one, never half of one, and a crash leaves one of the two: a temporary file in the same
/// directory, written and fsynced, given the old file's mode (and owner, when we may), renamed
/// over the old one, and the directory fsynced so the rename itself is durable.
enum AtomicFile {
    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure("cannot read \(path): \(String(cString: strerror(errno)))", fix: "check the path and its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Failure("\(path) is not UTF-8 text", fix: "check that this is PgBouncer's ini file")
        }
        return text
    }

    static func replace(_ path: String, with text: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else { throw failure("cannot stat \(path)") }
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        var template = Array("\(directory.isEmpty ? "." : directory)/.\(name).continuity-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw failure("cannot create a temporary file beside \(path)") }
        let temporary = String(cString: template)
        var renamed = false
        defer {
            if !renamed { unlink(temporary) }
        }
        do {
            defer { close(descriptor) }
            let bytes = Array(text.utf8)
            var written = 0
            while written < bytes.count {
                let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw failure("cannot write \(temporary)") }
                written += count
            }
            guard fchmod(descriptor, status.st_mode & 0o7777) == 0 else { throw failure("cannot set the mode of \(temporary)") }
            // Keep the owner (PgBouncer may run as its own user and read a 0600 file); only
            // possible as root or as that owner already, so a refusal here is not an error.
            _ = fchown(descriptor, status.st_uid, status.st_gid)
            guard fsync(descriptor) == 0 else { throw failure("cannot fsync \(temporary)") }
        }
        guard rename(temporary, path) == 0 else { throw failure("cannot rename \(temporary) to \(path)") }
        renamed = true
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    private static func failure(_ what: String) -> Failure {
        Failure("\(what): \(String(cString: strerror(errno)))", fix: "check the directory's permissions and free space")
    }
}
