import Foundation
import OperatorErrors
import PostgresClient

/// How pg_dump reaches the source without a secret in its arguments, which anyone on the
/// machine can read in the process list. The password goes in PGPASSWORD. libpq reads
/// `sslpassword` from no environment variable, so it goes in a service file in a directory
/// only this user can open, named by `service=` in the arguments and removed by `remove()`.
struct DumpConnection {
    /// For `--dbname`: the DSN without its secrets.
    let conninfo: String
    /// pg_dump's environment.
    let environment: [String: String]
    private let directory: URL?

    private static let service = "continuity"

    init(_ source: ConnectionString, environment inherited: [String: String]) throws {
        var environment = inherited
        if let password = source["password"] { environment["PGPASSWORD"] = password }
        var dsn = source.removing("password")
        var directory: URL?
        if let sslpassword = source["sslpassword"] {
            // libpq takes one service: a DSN that names its own would lose it to ours.
            if source["service"] != nil || inherited["PGSERVICE"] != nil {
                throw UsageError("the source DSN names a service and also gives sslpassword, which pg_dump could then only get in its arguments",
                                 fix: "put sslpassword in that service's entry (pg_service.conf) instead of the DSN")
            }
            // A service file value runs to the end of its line, trailing blanks trimmed.
            guard !sslpassword.contains(where: \.isNewline), sslpassword.last?.isWhitespace != true else {
                throw UsageError("the sslpassword in the source DSN ends in a blank or spans lines, which pg_dump cannot be given safely",
                                 fix: "re-encrypt the client key with a password without line breaks or trailing blanks")
            }
            let made = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-pg_dump-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: made, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            directory = made
            let file = made.appendingPathComponent("pg_service.conf")
            do {
                try Data("[\(Self.service)]\nsslpassword=\(sslpassword)\n".utf8).write(to: file)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
            } catch {
                try? FileManager.default.removeItem(at: made)
                throw error
            }
            environment["PGSERVICEFILE"] = file.path
            dsn = dsn.removing("sslpassword").setting("service", to: Self.service)
        }
        self.conninfo = dsn.conninfo
        self.environment = environment
        self.directory = directory
    }

    /// Removes the service file, if there is one. Safe to call twice.
    func remove() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }
}
