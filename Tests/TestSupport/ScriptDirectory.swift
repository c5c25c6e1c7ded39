import Foundation

/// A directory of one test holding an executable `script` and what it writes.
public struct ScriptDirectory: Sendable {
    public let path: String
    public var script: String { path + "/router.sh" }
    public var log: String { path + "/phases" }

    /// A router made of a file: each phase is logged with the nodes; repoint and rollback
    /// write the connect string clients should use into `route`.
    public static let routingScript = """
        #!/bin/sh
        here=$(dirname "$0")
        echo "$CONTINUITY_CUTOVER_PHASE old=$CONTINUITY_OLD_HOST:$CONTINUITY_OLD_PORT/$CONTINUITY_OLD_DBNAME new=$CONTINUITY_NEW_HOST:$CONTINUITY_NEW_PORT/$CONTINUITY_NEW_DBNAME path=${PATH:+set} secret=${PGPASSFILE:-none}" >>"$here/phases"
        case "$CONTINUITY_CUTOVER_PHASE" in
            repoint) echo "host=$CONTINUITY_NEW_HOST port=$CONTINUITY_NEW_PORT dbname=$CONTINUITY_NEW_DBNAME" >"$here/route" ;;
            rollback) echo "host=$CONTINUITY_OLD_HOST port=$CONTINUITY_OLD_PORT dbname=$CONTINUITY_OLD_DBNAME" >"$here/route" ;;
        esac
        """

    public static func with<T>(script: String, mode: mode_t = 0o755, _ body: (ScriptDirectory) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-router-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = ScriptDirectory(path: path)
        // Close-on-exec: a child another test spawns meanwhile must not keep the file open for
        // writing, or running it fails with ETXTBSY ("Text file busy").
        let descriptor = open(directory.script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw ScriptNotWritten(path: directory.script) }
        let bytes = Array(script.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count else { throw ScriptNotWritten(path: directory.script) }
        return try await body(directory)
    }
}

public struct ScriptNotWritten: Error {
    public let path: String
}
