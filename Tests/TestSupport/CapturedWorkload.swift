import Foundation

/// pgoutput messages captured from PostgreSQL 15.18, one per line as hex, for one transaction
/// touching every message kind (the workload is written out in PgOutputTests/FixtureTests.swift).
public enum CapturedWorkload {
    /// The tables the capture changes, for a passive to apply it to.
    public static let schema = """
        CREATE TYPE mood AS ENUM ('ok', 'happy');
        CREATE TABLE items (id int PRIMARY KEY, note text, big text, feeling mood);
        CREATE TABLE full_rows (a int, b text);
        """

    public static let messages: [[UInt8]] = {
        let url = TestBed.checkoutRoot.appendingPathComponent("Tests/PgOutputTests/Fixtures/pg15-workload.hex")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let digits = Array(line.utf8)
            return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
        }
    }()
}
