@testable import PgOutput
import PostgresTypes
import Testing

@Suite struct FrameTests {
    @Test func decodesXLogDataAndKeepalive() throws {
        let xlog: [UInt8] = [0x77] + [0, 0, 0, 1, 0, 0, 0, 2] + [0, 0, 0, 1, 0, 0, 0, 3] + [0, 0, 0, 0, 0, 0, 0, 9] + [0x42, 0x43]
        #expect(try ReplicationFrame.decode(xlog[...]) == .xLogData(XLogData(
            walStart: LSN("1/2")!, walEnd: LSN("1/3")!, sendTime: 9, payload: [0x42, 0x43][...])))
        let keepalive: [UInt8] = [0x6B] + [0, 0, 0, 0, 0, 0, 0x10, 0] + [0, 0, 0, 0, 0, 0, 0, 7] + [1]
        #expect(try ReplicationFrame.decode(keepalive[...]) == .keepalive(PrimaryKeepalive(walEnd: LSN("0/1000")!, sendTime: 7, replyRequested: true)))
    }

    @Test func namesTheMessageAndOffsetOfTruncatedInput() {
        let insert = Fixture.messages[3]
        let error = #expect(throws: PgOutputError.self) { try PgOutputMessage.decode(insert.dropLast(3)) }
        #expect(error?.message == "Insert")
        #expect(error?.description.hasPrefix("malformed Insert message at byte ") == true)
        // An operator error of the catalogue: the stream stops with exit 1 and this one line.
        #expect(error?.status == .failed)
        #expect(error?.fix == nil)
        let frame = #expect(throws: PgOutputError.self) { try ReplicationFrame.decode([0x6B, 0, 1][...]) }
        #expect(frame?.message == "PrimaryKeepalive")
        let unknown = #expect(throws: PgOutputError.self) { try PgOutputMessage.decode([0x5A, 0][...]) }
        #expect(unknown?.reason == "unknown message type 'Z'")
    }
}

/// Every prefix of every captured message, and random bytes, decode or fail with an error:
/// never a crash, never an out-of-bounds read.
@Suite struct FuzzTests {
    @Test func everyTruncationOfARealMessageFails() {
        for message in Fixture.messages {
            for length in 0..<message.count {
                #expect(throws: PgOutputError.self) { try PgOutputMessage.decode(message[..<length]) }
            }
            do { _ = try PgOutputMessage.decode(message[...]) } catch { Issue.record("the whole message failed: \(error)") }
        }
    }

    @Test func trailingBytesAreRejected() {
        for message in Fixture.messages {
            #expect(throws: PgOutputError.self) { try PgOutputMessage.decode((message + [0])[...]) }
        }
    }

    @Test func randomAndMutatedBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0, let base = Fixture.messages.randomElement(using: &generator) {
                bytes = base
                for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            } else {
                let kinds: [UInt8] = Array("BCORYIUDTwk".utf8)
                bytes = [kinds.randomElement(using: &generator)!] + (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            _ = try? PgOutputMessage.decode(bytes[...])
            _ = try? ReplicationFrame.decode(bytes[...])
        }
    }
}
