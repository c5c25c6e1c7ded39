@testable import PostgresClient
import Testing

/// The bytes of `Connection.runInOneWrite`, both ways, without a server.
@Suite struct SimpleQueryWireTests {
    static func message(_ type: Character, _ body: [UInt8]) -> [UInt8] {
        let length = UInt32(body.count + 4)
        return [type.asciiValue!] + withUnsafeBytes(of: length.bigEndian, Array.init) + body
    }
    static let ready = message("Z", [UInt8(ascii: "I")])
    static let complete = message("C", Array("RELOAD".utf8) + [0])
    static let failed = message("E", Array("SERROR\0C42601\0Minvalid command 'NOSUCH'\0".utf8) + [0])

    @Test func eachCommandIsAQueryMessageWithItsLengthAndANul() {
        #expect(SimpleQueryWire.messages(["RELOAD", "RESUME \"app\""])
                == Self.message("Q", Array("RELOAD".utf8) + [0]) + Self.message("Q", Array("RESUME \"app\"".utf8) + [0]))
    }

    @Test func answersEndAtEachReadyForQueryAndCarryTheirError() throws {
        let notice = Self.message("N", Array("SNOTICE\0Mhello\0".utf8) + [0])
        let bytes = Self.complete + Self.ready + notice + Self.failed + Self.ready
        let (answers, consumed) = try SimpleQueryWire.answers(in: bytes, expected: 2)
        #expect(consumed == bytes.count)
        #expect(answers.count == 2)
        #expect(answers[0] == nil)
        #expect(answers[1]?.sqlState == "42601")
        #expect(answers[1]?.message == "invalid command 'NOSUCH'")
    }

    /// A read may end anywhere: only whole answers count, and more bytes are read for the rest.
    @Test func aPartialAnswerWaitsForMoreBytes() throws {
        let bytes = Self.complete + Self.ready + Self.complete + Self.ready
        for cut in 0..<bytes.count {
            let (answers, consumed) = try SimpleQueryWire.answers(in: Array(bytes[..<cut]), expected: 2)
            #expect(answers.count == (cut < Self.complete.count + Self.ready.count ? 0 : 1), "cut at \(cut)")
            #expect(consumed <= cut)
        }
    }

    /// Whatever arrives, nothing traps: a length that cannot be is an error, a torn error body
    /// still makes an answer.
    @Test func malformedBytesAreAnErrorNeverACrash() {
        #expect(throws: SimpleQueryWire.MalformedAnswer.self) {
            try SimpleQueryWire.answers(in: [UInt8(ascii: "C"), 0, 0, 0, 2, 0], expected: 1)
        }
        #expect(throws: SimpleQueryWire.MalformedAnswer.self) {
            try SimpleQueryWire.answers(in: [UInt8(ascii: "C"), 0xff, 0xff, 0xff, 0xff], expected: 1)
        }
        let torn = Self.message("E", Array("SERROR\0Mno end".utf8)) + Self.ready
        #expect((try? SimpleQueryWire.answers(in: torn, expected: 1).answers.first??.message) == "no end")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? SimpleQueryWire.answers(in: bytes, expected: 3)
        }
    }
}
