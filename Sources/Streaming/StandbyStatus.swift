import PgOutput
import PostgresClient

extension Connection {
    /// The client layer sends bytes and PgOutput encodes the frame; the stream joins them here.
    func sendStandbyStatus(_ update: StandbyStatusUpdate) throws {
        try sendCopyData(update.bytes)
    }
}
