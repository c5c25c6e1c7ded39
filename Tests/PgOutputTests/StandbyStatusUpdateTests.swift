import PgOutput
import PostgresTypes
import Testing

@Suite struct StandbyStatusUpdateTests {
    @Test func encodesTheProtocolLayout() throws {
        let update = StandbyStatusUpdate(written: LSN(rawValue: 0x0102_0304_0506_0708), flushed: LSN(rawValue: 2),
                                         applied: LSN(rawValue: 3), clock: 0x1122, replyRequested: true)
        #expect(update.bytes == [0x72,
                                 1, 2, 3, 4, 5, 6, 7, 8,
                                 0, 0, 0, 0, 0, 0, 0, 2,
                                 0, 0, 0, 0, 0, 0, 0, 3,
                                 0, 0, 0, 0, 0, 0, 0x11, 0x22,
                                 1])
    }

    @Test func clockCountsFromThePostgresEpoch() {
        #expect(StandbyStatusUpdate.clock(unixSeconds: 946_684_800) == 0)
        #expect(StandbyStatusUpdate.clock(unixSeconds: 946_684_801.5) == 1_500_000)
    }
}
