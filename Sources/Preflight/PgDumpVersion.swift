import Foundation
import PostgresClient

/// The major version of the `pg_dump` snapshots run for the schema (`ClientPrograms`).
public enum PgDumpVersion {
    /// `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → 15.
    public static func parse(_ output: String) -> Int? {
        guard let range = output.range(of: "(PostgreSQL) ") else { return nil }
        let number = output[range.upperBound...].prefix(while: \.isNumber)
        return Int(number)
    }

    /// Runs `pg_dump --version`; nil when it is not installed or does not answer.
    public static func probe(executable: String = "pg_dump") -> Int? {
        let process = Process()
        (process.executableURL, process.arguments) = ClientPrograms.launch(executable, ["--version"])
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? parse(output) : nil
    }
}
