import Foundation
import PostgresClient
import Testing
import TestSupport

/// Each command's ways of saying no, as the operator meets them: the invocation, the exit
/// status the contract gives it (2 bad input, 3 refused for safety, 1 failed) and a word of
/// the message. `snapshots` and `check` change nothing, so they have nothing to refuse.
@Suite struct ErrorCatalogueTests {
    struct Row: CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let word: String

        init(_ status: Int32, _ word: String, _ arguments: [String]) {
            self.status = status
            self.word = word
            self.arguments = arguments
        }

        var description: String { "continuity \(arguments.joined(separator: " "))" }
    }

    @Test func everyCommandSaysNoWithItsExitStatus() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withConnection(source) { try await $0.execute("CREATE TABLE t (id int PRIMARY KEY)") }
            try await withTestDatabase(on: TestBed.passive) { full in
                try await withConnection(full) { try await $0.execute("CREATE TABLE existing (id int)") }
                try await withTestDatabase(on: TestBed.passive) { empty in
                    try await withTestDatabase(on: TestBed.plain) { plain in
                        try await withDirectory { store in
                            let snapshot = try await CommandLineRun.run(["snapshot", "--source", source.conninfo, "--store", "file://\(store)", "--stack", "good"])
                            try #require(snapshot.status == 0, "\(snapshot.stderr)")
                            // A snapshot under another stack's name: its manifest says it is not.
                            try FileManager.default.copyItem(atPath: "\(store)/good", toPath: "\(store)/moved")
                            // The hooks' config: stack good restores into the full database, nowhere has no store.
                            try """
                                stacks:
                                  good: {source: "\(source.conninfo)", target: "\(full.conninfo)", store: "file://\(store)"}
                                  nowhere: {source: "\(source.conninfo)", target: "\(empty.conninfo)", store: "file:///no/such/store"}
                                """.write(toFile: "\(store)/hooks.yaml", atomically: true, encoding: .utf8)
                            try "stacks:\n  good:\n    store: file://\(store)\n    fense: readonly\n".write(toFile: "\(store)/bad.yaml", atomically: true, encoding: .utf8)
                            try "stacks:\n  good:\n    store: file://\(store)\nagent:\n  listen: 127.0.0.1:1\n  token_file: /no/such/token\n"
                                .write(toFile: "\(store)/agent.yaml", atomically: true, encoding: .utf8)
                            let rows = Self.rows(source: source, full: full, empty: empty, plain: plain, store: "file://\(store)")
                                + Self.hookRows(config: "\(store)/hooks.yaml", bad: "\(store)/bad.yaml")
                                + Self.agentRows(config: "\(store)/hooks.yaml", noToken: "\(store)/agent.yaml")
                            for row in rows {
                                let run = try await CommandLineRun.run(row.arguments)
                                #expect(run.status == row.status, "\(row): \(run.stderr)")
                                #expect((run.stdout + run.stderr).contains(row.word), "\(row): \(run.stdout)\(run.stderr)")
                            }
                            #expect(Set(rows.map { $0.arguments[0] }) == ["snapshot", "restore", "snapshots", "check", "stream", "cutover", "hook", "config", "agent"])
                        }
                    }
                }
            }
        }
    }

    static func hookRows(config: String, bad: String) -> [Row] {
        [
            Row(2, "missing --config", ["hook", "pre-destroy", "--stack", "good"]),
            Row(2, "has no stack 'other'", ["hook", "post-create", "--config", config, "--stack", "other"]),
            Row(2, "--deadline: 'soon' is not a duration", ["hook", "pre-destroy", "--config", config, "--stack", "good", "--deadline", "soon"]),
            Row(3, "was not restored by continuity", ["hook", "post-create", "--config", config, "--stack", "good"]),
            Row(1, "does not exist", ["hook", "pre-destroy", "--config", config, "--stack", "nowhere"]),
            Row(2, "line 4: stacks.good.fense: is not a known setting", ["config", "check", "--config", bad]),
        ]
    }

    /// The agent refuses to start; it never gets as far as listening.
    static func agentRows(config: String, noToken: String) -> [Row] {
        [
            Row(2, "missing --config", ["agent"]),
            Row(2, "has no agent: section", ["agent", "--config", config]),
            Row(2, "line 6: agent.token_file: cannot read a token from /no/such/token", ["agent", "--config", noToken]),
        ]
    }

    static func rows(source: ConnectionString, full: ConnectionString, empty: ConnectionString, plain: ConnectionString,
                     store: String) -> [Row] {
        let slot = uniqueName("cli_catalogue")
        let nowhere = "file:///no/such/store"
        return [
            Row(2, "unknown compression", ["snapshot", "--source", source.conninfo, "--store", store, "--stack", "s", "--compression", "lz4"]),
            Row(2, "which the stores reserve", ["snapshot", "--source", source.conninfo, "--store", store, "--stack", "a.partial-b"]),
            Row(2, "slot name 'Bad-Slot' is not usable", ["snapshot", "--source", source.conninfo, "--store", store, "--stack", "s", "--slot", "Bad-Slot"]),
            Row(3, "no logical slot could be made", ["snapshot", "--source", plain.conninfo, "--store", store, "--stack", "s", "--slot", slot]),
            Row(1, "does not exist", ["snapshot", "--source", source.conninfo, "--store", nowhere, "--stack", "s"]),

            Row(2, "no snapshot of stack none", ["restore", "--target", empty.conninfo, "--store", store, "--stack", "none"]),
            Row(2, "is not a snapshot id", ["restore", "--target", empty.conninfo, "--store", store, "--stack", "good", "--snapshot", "yesterday"]),
            Row(3, "is not empty", ["restore", "--target", full.conninfo, "--store", store, "--stack", "good"]),
            Row(1, "not this one", ["restore", "--target", empty.conninfo, "--store", store, "--stack", "moved"]),
            Row(1, "does not exist", ["restore", "--target", empty.conninfo, "--store", nowhere, "--stack", "good"]),

            Row(2, "missing --keep", ["snapshots", "prune", "--store", store, "--stack", "good"]),
            Row(2, "no snapshot 20260101T000000Z-0000 of stack good", ["snapshots", "show", "--store", store, "--stack", "good", "20260101T000000Z-0000"]),
            Row(1, "not this one", ["snapshots", "show", "--store", store, "--stack", "moved"]),
            Row(1, "does not exist", ["snapshots", "list", "--store", nowhere, "--stack", "good"]),

            Row(2, "missing --source", ["check"]),
            Row(2, "unknown log level", ["check", "--source", source.conninfo, "--log-level", "loud"]),
            Row(1, "wal_level", ["check", "--source", plain.conninfo]),

            Row(2, "--init everything is not a mode", ["stream", "--source", source.conninfo, "--target", empty.conninfo, "--slot", slot, "--init", "everything"]),
            Row(2, "neither caught-up nor an LSN", ["stream", "--source", source.conninfo, "--target", empty.conninfo, "--slot", slot, "--until", "soon"]),
            Row(2, "there is no slot \(slot)", ["stream", "status", "--source", source.conninfo, "--target", empty.conninfo, "--slot", slot]),
            Row(3, "there is nothing to stream into", ["stream", "--source", source.conninfo, "--target", empty.conninfo, "--slot", slot]),
            Row(3, "so --init copy cannot copy into it", ["stream", "--source", source.conninfo, "--target", full.conninfo, "--slot", slot, "--init", "copy"]),
            Row(1, "connection refused", ["stream", "--source", "host=127.0.0.1 port=1 dbname=app", "--target", empty.conninfo, "--slot", slot]),
            Row(2, "is not a duration", ["cutover", "--source", source.conninfo, "--target", empty.conninfo, "--router", "none", "--max-pause", "soon"]),
            Row(2, "between 100ms and 1h", ["cutover", "--source", source.conninfo, "--target", empty.conninfo, "--router", "none", "--max-pause", "3000000h"]),
            Row(2, "unknown router", ["cutover", "--source", source.conninfo, "--target", empty.conninfo, "--router", "haproxy"]),
            Row(2, "--pgbouncer-config", ["cutover", "--source", source.conninfo, "--target", empty.conninfo, "--router", "pgbouncer",
                                           "--pgbouncer-admin", "host=127.0.0.1 port=1 dbname=pgbouncer"]),
            Row(3, "no slot", ["cutover", "--source", source.conninfo, "--target", empty.conninfo, "--router", "none", "--slot", slot,
                               "--journal", "/tmp/\(slot).journal"]),
        ]
    }
}
