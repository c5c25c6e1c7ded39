import Foundation
import Logging
import OperatorErrors
import PostgresClient
import Snapshotting
import Testing
import TestSupport

/// No secret reaches a child process's arguments, which every user of the machine can read
/// (issue 9, defect 12): the password goes in PGPASSWORD, the sslpassword in a service file.
@Suite struct DumpSecretsTests {
    /// The command line of every running pg_dump whose arguments mention `database`, with its
    /// environment.
    static func pgDumps(of database: String) -> [(arguments: [String], environment: [String: String])] {
        ProcessTable.pids.compactMap { pid in
            guard let arguments = ProcessTable.arguments(of: pid),
                  arguments.first?.hasSuffix("pg_dump") == true, arguments.contains(where: { $0.contains(database) }) else { return nil }
            let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") ?? Data()
            let pairs = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.compactMap { pair -> (String, String)? in
                guard let equals = pair.firstIndex(of: "=") else { return nil }
                return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
            }
            return (arguments, Dictionary(pairs, uniquingKeysWith: { $1 }))
        }
    }

    /// pg_dump is held on a lock while the test reads its command line from /proc.
    @Test func sslpasswordStaysOutOfPgDumpsArguments() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            let database = source["dbname"]!
            let secret = "ssl-secret-" + UUID().uuidString
            try await withConnection(source) {
                try await $0.execute("CREATE TABLE parent (id int) PARTITION BY RANGE (id); CREATE TABLE leaf PARTITION OF parent FOR VALUES FROM (0) TO (10)")
            }
            try await withStore { store in
                try await withConnection(source) { holder in
                    // pg_dump locks the partitioned parent; the snapshot's own sessions lock only leaves.
                    try await holder.execute("BEGIN; LOCK TABLE ONLY parent IN ACCESS EXCLUSIVE MODE")
                    var options = SnapshotOptions(source: source.setting("sslpassword", to: secret), store: store, stack: "secrets",
                                                  jobs: 1, codec: .none, toolVersion: "test")
                    options.exactPointWait = .milliseconds(200)  // the lock's transaction would keep a slot waiting
                    let snapshot = Task { try await SnapshotRunner.take(options, logger: Logger(label: "test")) }
                    // Reading every process's command line takes a while: off the cooperative pool.
                    try await waitUntil("pg_dump to wait for the lock", timeout: .seconds(90)) { await offThePool { Self.pgDumps(of: database) }.count == 2 }
                    let dumps = await offThePool { Self.pgDumps(of: database) }
                    try await holder.execute("COMMIT")
                    _ = try await snapshot.value
                    for dump in dumps {
                        #expect(!dump.arguments.joined(separator: " ").contains(secret), "\(dump.arguments)")
                        let serviceFile = try #require(dump.environment["PGSERVICEFILE"])
                        #expect(!FileManager.default.fileExists(atPath: serviceFile), "the service file outlived pg_dump")
                    }
                }
            }
        }
    }
}
