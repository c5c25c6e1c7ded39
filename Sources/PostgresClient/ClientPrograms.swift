import Foundation

/// Where a PostgreSQL client program such as pg_dump is. Debian and Ubuntu install
/// `/usr/bin/pg_dump` as a link to postgresql-common's `pg_wrapper`, a Perl script that picks a
/// version on every call: for a server that is not a local cluster, the newest one installed.
/// Starting Perl cost 50–100 ms of CPU per call here, which a snapshot paid twice on a 1.4 s
/// run, so continuity makes the same choice itself and runs the binary directly. With
/// `PGCLUSTER` set the wrapper's own choice is kept; any other program on PATH is used as it is.
public enum ClientPrograms {
    /// The program to run: an absolute path, or nil when it is not on PATH.
    public static func path(of program: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            versionsDirectory: String = "/usr/lib/postgresql") -> String? {
        let files = FileManager.default
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        guard let found = directories.map({ "\($0)/\(program)" }).first(where: files.isExecutableFile) else { return nil }
        let target = URL(fileURLWithPath: found).resolvingSymlinksInPath().path
        guard target.hasSuffix("postgresql-common/pg_wrapper"), environment["PGCLUSTER"] == nil else { return found }
        let newest = ((try? files.contentsOfDirectory(atPath: versionsDirectory)) ?? [])
            .compactMap { Int($0) }
            .sorted(by: >)
            .map { "\(versionsDirectory)/\($0)/bin/\(program)" }
            .first(where: files.isExecutableFile)
        return newest ?? found
    }

    /// `Process` settings that run `program`: directly when it is found, else through
    /// `/usr/bin/env`, whose "not found" then reaches the error message.
    public static func launch(_ program: String, _ arguments: [String]) -> (executable: URL, arguments: [String]) {
        if let path = path(of: program) { return (URL(fileURLWithPath: path), arguments) }
        return (URL(fileURLWithPath: "/usr/bin/env"), [program] + arguments)
    }
}
