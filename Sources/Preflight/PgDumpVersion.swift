import Foundation
import Parallelism
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
        let (path, arguments) = ClientPrograms.launch(executable, ["--version"])
        guard let process = try? ChildProcess(executable: path.path, arguments: arguments,
                                              environment: ProcessInfo.processInfo.environment, standardOutput: .capture)
        else { return nil }
        let status = process.waitForExit()
        let output = String(decoding: process.captured(1), as: UTF8.self)
        return status == 0 ? parse(output) : nil
    }
}
