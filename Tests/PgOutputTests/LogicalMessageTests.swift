@testable import PgOutput
import PostgresTypes
import Testing

/// Cutover's marker arrives as a logical decoding message ('M'): flags, LSN, prefix, content.
@Suite struct LogicalMessageTests {
    static func bytes(flags: UInt8 = 1, lsn: UInt64 = 0x1_0000_0028, prefix: String = "continuity.cutover", content: [UInt8],
                      length: Int32? = nil) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "M"), flags]
        bytes += withUnsafeBytes(of: lsn.bigEndian, Array.init)
        bytes += Array(prefix.utf8) + [0]
        bytes += withUnsafeBytes(of: (length ?? Int32(content.count)).bigEndian, Array.init)
        return bytes + content
    }

    @Test func aMessageDecodesWithItsPrefixAndContent() throws {
        let message = try PgOutputMessage.decode(Self.bytes(content: Array("slot_a".utf8))[...])
        #expect(message == .message(LogicalMessage(transactional: true, lsn: LSN(rawValue: 0x1_0000_0028), prefix: "continuity.cutover",
                                                   content: Array("slot_a".utf8))))
        let plain = try PgOutputMessage.decode(Self.bytes(flags: 0, content: [])[...])
        #expect(plain == .message(LogicalMessage(transactional: false, lsn: LSN(rawValue: 0x1_0000_0028), prefix: "continuity.cutover", content: [])))
    }

    @Test(arguments: [Int32(-1), 7, Int32.max]) func aLengthThatDoesNotFitIsAnErrorNotATrap(_ length: Int32) {
        #expect(throws: PgOutputError.self) { try PgOutputMessage.decode(Self.bytes(content: [1, 2, 3], length: length)[...]) }
    }

    @Test func trailingBytesAreAnError() {
        #expect(throws: PgOutputError.self) { try PgOutputMessage.decode((Self.bytes(content: [1]) + [9])[...]) }
    }
}
