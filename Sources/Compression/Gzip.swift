import CZlib

/// zlib in gzip mode (windowBits 15 + 16): the output is a plain `.gz` stream that `zcat` reads.
private let gzipWindowBits: Int32 = 15 + 16
/// 16 + 15 also accepts only gzip on inflate; 32 + 15 would auto-detect zlib too, which we never write.
private let outputStep = 64 << 10

final class GzipCompressor: StreamCompressor {
    private var stream = z_stream()

    init(level: Int) throws {
        let status = czlib_deflate_init2(&stream, Int32(level), gzipWindowBits, 8, Z_DEFAULT_STRATEGY)
        guard status == Z_OK else { throw CompressionError(problem: "zlib deflateInit2 failed (\(status))") }
    }

    deinit { deflateEnd(&stream) }

    func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        guard !input.isEmpty else { return }
        try run(input, flush: Z_NO_FLUSH, into: &output)
    }

    func finish(into output: inout [UInt8]) throws {
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, into: &output)
    }

    private func run(_ input: UnsafeRawBufferPointer, flush: Int32, into output: inout [UInt8]) throws {
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        while true {
            let produced = try withOutputSpace(&output) { space in
                stream.next_out = space.baseAddress
                stream.avail_out = uInt(space.count)
                let status = deflate(&stream, flush)
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw CompressionError(problem: "zlib deflate failed (\(status))")
                }
                return (space.count - Int(stream.avail_out), status)
            }
            let finished = flush == Z_FINISH ? produced == Z_STREAM_END : stream.avail_in == 0 && stream.avail_out != 0
            if finished { break }
        }
        stream.next_in = nil
    }
}

final class GzipDecompressor: StreamDecompressor {
    private var stream = z_stream()
    private var ended = false

    init() throws {
        let status = czlib_inflate_init2(&stream, gzipWindowBits)
        guard status == Z_OK else { throw CompressionError(problem: "zlib inflateInit2 failed (\(status))") }
    }

    deinit { inflateEnd(&stream) }

    func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        guard !input.isEmpty else { return }
        guard !ended else { throw CompressionError(problem: "data continues after the end of the gzip stream") }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        while stream.avail_in > 0 || !ended {
            let status = try withOutputSpace(&output) { space in
                stream.next_out = space.baseAddress
                stream.avail_out = uInt(space.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                return (space.count - Int(stream.avail_out), status)
            }
            switch status {
            case Z_STREAM_END:
                ended = true
                if stream.avail_in > 0 { throw CompressionError(problem: "data continues after the end of the gzip stream") }
            case Z_OK:
                if stream.avail_in == 0 && stream.avail_out != 0 { stream.next_in = nil; return }
            case Z_BUF_ERROR:
                if stream.avail_in == 0 { stream.next_in = nil; return }
            default:
                throw CompressionError(problem: "corrupt gzip data (zlib \(status)\(stream.msg.map { ": " + String(cString: $0) } ?? ""))")
            }
        }
        stream.next_in = nil
    }

    func finish() throws {
        guard ended else { throw CompressionError(problem: "the gzip stream is truncated") }
    }
}

/// Grows `output` by one step, lets zlib write into the new space, then trims what it did not use.
private func withOutputSpace(_ output: inout [UInt8],
                             _ body: (UnsafeMutableBufferPointer<Bytef>) throws -> (used: Int, status: Int32)) throws -> Int32 {
    let start = output.count
    output.append(contentsOf: repeatElement(0, count: outputStep))
    var used = 0
    let status = try output.withUnsafeMutableBufferPointer { buffer in
        let space = UnsafeMutableBufferPointer(rebasing: buffer[start...])
        let (count, status) = try body(space)
        used = count
        return status
    }
    output.removeLast(outputStep - used)
    return status
}
