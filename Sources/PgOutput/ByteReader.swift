import PostgresTypes

/// A cursor over one message's bytes. Every read checks its bounds and fails with the
/// message's name and the offset, so the decoders above it stay straight-line code.
struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private(set) var offset = 0
    let message: String

    init(_ bytes: ArraySlice<UInt8>, message: String) {
        self.bytes = bytes
        self.message = message
    }

    var remaining: Int { bytes.count - offset }

    func failure(_ reason: String) -> PgOutputError {
        PgOutputError(message: message, offset: offset, reason: reason)
    }

    mutating func bytes(_ count: Int) throws(PgOutputError) -> ArraySlice<UInt8> {
        guard count >= 0 else { throw failure("negative length \(count)") }
        guard count <= remaining else { throw failure("needs \(count) bytes, \(remaining) left") }
        let start = bytes.startIndex + offset
        offset += count
        return bytes[start..<start + count]
    }

    /// The rest of the message (XLogData's payload).
    mutating func rest() -> ArraySlice<UInt8> {
        let start = bytes.startIndex + offset
        offset = bytes.count
        return bytes[start...]
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws(PgOutputError) -> T {
        let raw = try bytes(MemoryLayout<T>.size)
        return raw.reduce(T.zero) { $0 << 8 | T(truncatingIfNeeded: $1) }  // network byte order
    }

    mutating func byte() throws(PgOutputError) -> UInt8 { try integer(UInt8.self) }

    mutating func lsn() throws(PgOutputError) -> LSN { LSN(rawValue: try integer(UInt64.self)) }

    /// A NUL-terminated string.
    mutating func cString() throws(PgOutputError) -> String {
        let start = bytes.startIndex + offset
        guard let end = bytes[start...].firstIndex(of: 0) else { throw failure("string without its terminating zero byte") }
        let text = String(decoding: bytes[start..<end], as: UTF8.self)
        offset += end - start + 1
        return text
    }

    func expectEnd() throws(PgOutputError) {
        guard remaining == 0 else { throw failure("\(remaining) unexpected bytes after the message") }
    }
}
