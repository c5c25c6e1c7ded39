import Foundation
import OperatorErrors
import Parallelism
import PostgresClient
import SnapshotFormat
import SnapshotObjects
import SnapshotStore

/// Runs `pg_dump --schema-only --section=…` under an exported snapshot and streams its output
/// to a sink. No secret travels in pg_dump's arguments (`DumpConnection`). The output is
/// UTF-8 whatever the database's encoding (`--encoding`), as everything reading it assumes.
public enum SchemaDump {
    public enum Section: String, Sendable { case preData = "pre-data", postData = "post-data" }

    /// The section as text (a schema is small): what `--init copy` applies directly.
    public static func text(_ section: Section, source: ConnectionString, snapshot: String) async throws -> String {
        try await Blocking.run {
            var bytes: [UInt8] = []
            try run(section, source: source, snapshot: snapshot) { bytes.append(contentsOf: $0) }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The section into the store, with its size and SHA-256 for the manifest.
    public static func dump(_ section: Section, source: ConnectionString, snapshot: String,
                            store: any SnapshotStore, key: String) async throws -> Manifest.StoredFile {
        try await Blocking.run {
            let (_, written) = try StoredObjectWriter.write(key, to: store, codec: nil) { object in
                try run(section, source: source, snapshot: snapshot, into: object.write)
            }
            return Manifest.StoredFile(path: key, bytes: written.storedBytes, sha256: written.sha256)
        }
    }

    /// Blocks: call it off the cooperative pool.
    private static func run(_ section: Section, source: ConnectionString, snapshot: String,
                            into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let connection = try DumpConnection(source, environment: ProcessInfo.processInfo.environment)
        defer { connection.remove() }
        let (executable, arguments) = ClientPrograms.launch("pg_dump", [
            "--schema-only", "--section=\(section.rawValue)", "--snapshot=\(snapshot)", "--encoding=UTF8",
            "--no-password", "--exclude-schema=continuity", "--dbname=\(connection.conninfo)",
        ])
        var environment = connection.environment
        environment["PGAPPNAME"] = "continuity-pg_dump"
        let process: ChildProcess
        do {
            process = try ChildProcess(executable: executable.path, arguments: arguments, environment: environment,
                                       standardOutput: .pipe, standardError: .capture)
        } catch {
            throw Failure("\(error)", fix: "install the PostgreSQL client programs (pg_dump) or put them on PATH")
        }
        do {
            while let chunk = try process.standardOutput?.read(upToCount: 1 << 16), !chunk.isEmpty {
                try chunk.withUnsafeBytes(sink)
            }
        } catch {
            // pg_dump only reads under the exported snapshot: nothing of its own to clean up.
            process.signal(SIGKILL)
            process.waitForExit()
            throw error
        }
        let status = process.waitForExit()
        let messages = String(decoding: process.captured(2), as: UTF8.self)
        guard status == 0 else {
            let last = messages.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(status)"
            throw Failure("pg_dump --section=\(section.rawValue) failed: \(last)",
                          fix: "run `continuity check --source …` to see what is missing")
        }
    }
}
