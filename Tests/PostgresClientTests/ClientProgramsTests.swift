import Foundation
import PostgresClient
import Testing

@Suite struct ClientProgramsTests {
    /// A throwaway tree like Debian's: bin/pg_dump → share/postgresql-common/pg_wrapper, and
    /// lib/postgresql/{13,15}/bin/pg_dump.
    static func withDebianLayout(_ body: (URL) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-programs-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        let files = FileManager.default
        func executable(_ path: String) throws {
            let url = root.appendingPathComponent(path)
            try files.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("#!/bin/sh\n".utf8).write(to: url)
            try files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
        try executable("share/postgresql-common/pg_wrapper")
        try executable("lib/postgresql/13/bin/pg_dump")
        try executable("lib/postgresql/15/bin/pg_dump")
        try executable("other/pg_restore")
        try files.createDirectory(at: root.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try files.createSymbolicLink(atPath: root.appendingPathComponent("bin/pg_dump").path,
                                     withDestinationPath: "../share/postgresql-common/pg_wrapper")
        try body(root)
    }

    @Test func thePerlWrapperIsSkippedForTheNewestVersion() throws {
        try Self.withDebianLayout { root in
            let path = ClientPrograms.path(of: "pg_dump", environment: ["PATH": root.path + "/bin"],
                                           versionsDirectory: root.path + "/lib/postgresql")
            #expect(path == root.path + "/lib/postgresql/15/bin/pg_dump")
        }
    }

    @Test func pgclusterKeepsTheWrapper() throws {
        try Self.withDebianLayout { root in
            let path = ClientPrograms.path(of: "pg_dump", environment: ["PATH": root.path + "/bin", "PGCLUSTER": "13/main"],
                                           versionsDirectory: root.path + "/lib/postgresql")
            #expect(path == root.path + "/bin/pg_dump")
        }
    }

    @Test func otherProgramsAreUsedAsFoundOrNotAtAll() throws {
        try Self.withDebianLayout { root in
            let environment = ["PATH": root.path + "/nowhere:" + root.path + "/other"]
            #expect(ClientPrograms.path(of: "pg_restore", environment: environment) == root.path + "/other/pg_restore")
            #expect(ClientPrograms.path(of: "pg_dump", environment: environment) == nil)
        }
    }
}
