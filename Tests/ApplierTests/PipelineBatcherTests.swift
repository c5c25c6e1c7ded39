@testable import Applier
import PostgresClient
import PostgresTypes
import Testing

@Suite struct PipelineBatcherTests {
    @Test func batchesAreFullAtThePipelineLimitAndRememberWhatTheyHold() {
        var batcher = PipelineBatcher()
        let nothing = batcher.take()
        #expect(nothing == nil)
        let beginFills = batcher.add(PipelinedStatement("BEGIN"))
        #expect(!beginFills)
        let change = ChangeStatement(sql: "WITH changed AS (…)", parameters: ["{\"1\"}"], rows: 1)
        for _ in 2..<Connection.pipelineLimit {
            let full = batcher.add(change, setBased: true)
            #expect(!full)
        }
        let full = batcher.add(change, setBased: false)  // the 256th
        #expect(full)
        let commit = CommittedGroup(end: LSN(rawValue: 7), changes: 255)
        let batch = batcher.take(committing: commit)
        #expect(batch?.statements.count == Connection.pipelineLimit)
        #expect(batch?.statements.last == PipelinedStatement(change.sql, change.parameters, prepared: true))
        #expect(batch?.receipt == BatchReceipt(setBased: true, commit: commit))
        #expect(batcher.isEmpty)

        // The set-based mark goes with the batch it was in.
        _ = batcher.add(change, setBased: false)
        let single = batcher.take()
        #expect(single?.receipt == BatchReceipt(setBased: false, commit: nil))
        _ = batcher.add(change, setBased: true)
        batcher.discard()
        let discarded = batcher.take()
        #expect(discarded == nil)
    }
}
