import Logging
import PostgresClient
import Streaming
import Testing
import TestSupport

/// `--init copy` while the active keeps writing, then streaming: every table shape of the
/// snapshot issue ends identical on both sides.
@Suite struct MixedWorkloadStreamTests {
    @Test func initialCopyUnderWritesThenStreamEndsIdentical() async throws {
        try await withTestDatabase(on: TestBed.active) { source in
            try await withTestDatabase(on: TestBed.passive) { target in
                try await withConnection(source) { try await $0.execute(RichSchema.sql + MixedWorkload.extraTables) }
                var options = StreamOptions(source: source, target: target, slot: uniqueName("copy"),
                                            publication: uniqueName("pub"), until: .caughtUp)
                options.initMode = .copy
                options.jobs = 2
                try await StreamRunnerTests.withSlot(options.slot) {
                    let truncating = WorkloadSwitch(false)
                    let writer = Task { try await MixedWorkload.run(on: source, truncating: truncating) }
                    let first = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    truncating.turnOn()  // the copy is done
                    #expect(first.initialCopy?.tables == 11)  // leaf tables: partitions count, their parent does not
                    // A re-run with --init copy finds the copy done and only streams.
                    let second = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    #expect(second.initialCopy == nil)
                    writer.cancel()
                    let written = try await writer.value
                    let last = try await StreamRunner.run(options, logger: Logger(label: "test"))
                    #expect(written > 24, "the workload should cover every kind of transaction twice")
                    #expect(first.transactions + second.transactions + last.transactions > 0)

                    // A materialized view holds what its last refresh saw; refresh both to compare.
                    for dsn in [source, target] {
                        try await withConnection(dsn) { try await $0.execute("REFRESH MATERIALIZED VIEW totals") }
                    }
                    let (active, passive) = (try await DatabaseDigest.of(source), try await DatabaseDigest.of(target))
                    #expect(active == passive, "active:\n\(active)\npassive:\n\(passive)")

                    let status = try await StreamStatus.read(source: source, target: target, slot: options.slot)
                    #expect(status.streamingPid == nil)
                    #expect(status.walStatus == "reserved")
                    #expect(status.appliedLSN != nil)
                    #expect(status.transactionsApplied == Int64(first.transactions + second.transactions + last.transactions))
                }
            }
        }
    }
}
