import Checksum
import Foundation
import OperatorErrors
import Parallelism
import PostgresClient
import SnapshotFormat
import SnapshotStore

/// Runs `pg_dump --schema-only --section=…` under the exported snapshot and streams its
/// output into the store. The password travels in PGPASSWORD, never in pg_dump's arguments.
enum SchemaDump {
    enum Section: String { case preData = "pre-data", postData = "post-data" }

    static func dump(_ section: Section, source: ConnectionString, snapshot: String,
                     store: any SnapshotStore, key: String) async throws -> Manifest.StoredFile {
        try await Blocking.run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["pg_dump", "--schema-only", "--section=\(section.rawValue)", "--snapshot=\(snapshot)",
                                 "--no-password", "--exclude-schema=continuity", "--dbname=\(source.removing("password").conninfo)"]
            var environment = ProcessInfo.processInfo.environment
            if let password = source["password"] { environment["PGPASSWORD"] = password }
            environment["PGAPPNAME"] = "continuity-pg_dump"
            process.environment = environment
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()

            let writer = try store.makeWriter(key)
            let hasher = SHA256Hasher()
            var bytes: Int64 = 0
            do {
                while let chunk = try output.fileHandleForReading.read(upToCount: 1 << 16), !chunk.isEmpty {
                    try chunk.withUnsafeBytes { raw in
                        hasher.update(raw)
                        try writer.write(raw)
                    }
                    bytes += Int64(chunk.count)
                }
                let messages = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    let last = messages.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(process.terminationStatus)"
                    throw UsageError("pg_dump --section=\(section.rawValue) failed: \(last)",
                                     fix: "run `continuity check --source …` to see what is missing", status: .failed)
                }
                try writer.commit()
            } catch {
                writer.abort()
                if process.isRunning { process.terminate() }
                throw error
            }
            return Manifest.StoredFile(path: key, bytes: bytes, sha256: hasher.finish().hex)
        }
    }
}
