/// The frontend/backend protocol's simple queries as bytes, both ways, without I/O: several
/// `Query` messages to send in one write, and the answers read back until each command's
/// `ReadyForQuery` (see `Connection.runInOneWrite`).
enum SimpleQueryWire {
    /// A command's answer: nil, or the error the server sent for it.
    typealias Answer = ServerError?

    /// 'Q', the length (itself included), the text, NUL; one after the other.
    static func messages(_ commands: [String]) -> [UInt8] {
        commands.flatMap { command -> [UInt8] in
            let text = Array(command.utf8) + [0]
            let length = UInt32(text.count + 4)
            return [UInt8(ascii: "Q")] + withUnsafeBytes(of: length.bigEndian, Array.init) + text
        }
    }

    /// The answers complete in `bytes` (up to `expected`), and how many bytes they took: the
    /// caller reads more while fewer than `expected` are complete. Messages other than errors
    /// and ReadyForQuery (CommandComplete, notices, parameter changes) are skipped.
    static func answers(in bytes: [UInt8], expected: Int) throws -> (answers: [Answer], consumed: Int) {
        var answers: [Answer] = []
        var error: ServerError?
        var offset = 0
        while answers.count < expected, bytes.count - offset >= 5 {
            let length = bytes[(offset + 1)..<(offset + 5)].reduce(0) { $0 << 8 | Int($1) }
            // A length below its own four bytes, or absurd for an answer, is not this protocol.
            guard length >= 4, length <= 1 << 20 else { throw MalformedAnswer(offset: offset) }
            guard bytes.count - offset >= 1 + length else { break }
            let body = bytes[(offset + 5)..<(offset + 1 + length)]
            switch bytes[offset] {
            case UInt8(ascii: "E"): error = Self.error(body)
            case UInt8(ascii: "Z"):
                answers.append(error)
                error = nil
            default: break
            }
            offset += 1 + length
        }
        return (answers, offset)
    }

    /// An ErrorResponse's fields: a code byte and a NUL-terminated text each, then a NUL.
    private static func error(_ body: ArraySlice<UInt8>) -> ServerError {
        var fields: [UInt8: String] = [:]
        var rest = body[...]
        while let code = rest.first, code != 0 {
            rest = rest.dropFirst()
            let text = rest.prefix { $0 != 0 }
            fields[code] = String(decoding: text, as: UTF8.self)
            rest = rest.dropFirst(text.count + 1)
        }
        return ServerError(sqlState: fields[UInt8(ascii: "C")] ?? "XX000", severity: fields[UInt8(ascii: "S")] ?? "ERROR",
                           message: fields[UInt8(ascii: "M")] ?? "unknown error", detail: fields[UInt8(ascii: "D")],
                           hint: fields[UInt8(ascii: "H")], statement: "")
    }

    struct MalformedAnswer: Error {
        let offset: Int
    }
}
