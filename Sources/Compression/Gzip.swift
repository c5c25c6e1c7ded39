import CZlib

/// zlib in gzip mode (windowBits 15 + 16): the output is a plain `.gz` stream that `zcat` reads,
/// and inflate accepts only gzip, which is all we ever write.
private let gzipWindowBits: Int32 = 15 + 16

/// One fixed output buffer per stream: zlib writes into it and only what it produced is
/// appended to the caller's output, so small inputs cost no large allocation or zero-fill.
private struct Scratch: ~Copyable {
    let buffer = UnsafeMutableBufferPointer<Bytef>.allocate(capacity: 64 << 10)
    deinit { buffer.deallocate() }

    /// Points the stream's output at the buffer, runs `step`, appends what it produced.
    func drain(_ stream: inout z_stream, into output: inout [UInt8], _ step: (inout z_stream) -> Int32) -> Int32 {
        stream.next_out = buffer.baseAddress
        stream.avail_out = uInt(buffer.count)
        let status = step(&stream)
        output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<(buffer.count - Int(stream.avail_out))]))
        return status
    }
}

final class GzipCompressor: StreamCompressor {
    private var stream = z_stream()
    private let scratch = Scratch()

    init(level: Int) throws {
        let status = czlib_deflate_init2(&stream, Int32(level), gzipWindowBits, 8, Z_DEFAULT_STRATEGY)
        guard status == Z_OK else { throw CompressionError(problem: "zlib deflateInit2 failed (\(status))") }
    }

    deinit { deflateEnd(&stream) }

    func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        guard !input.isEmpty else { return }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        defer { stream.next_in = nil }
        // deflate has consumed everything once it leaves output space unused.
        repeat {
            let status = scratch.drain(&stream, into: &output) { deflate(&$0, Z_NO_FLUSH) }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                throw CompressionError(problem: "zlib deflate failed (\(status))")
            }
        } while stream.avail_out == 0 || stream.avail_in > 0
    }

    func finish(into output: inout [UInt8]) throws {
        while true {
            let status = scratch.drain(&stream, into: &output) { deflate(&$0, Z_FINISH) }
            if status == Z_STREAM_END { return }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                throw CompressionError(problem: "zlib deflate failed to finish (\(status))")
            }
        }
    }
}

final class GzipDecompressor: StreamDecompressor {
    private var stream = z_stream()
    private let scratch = Scratch()
    private var ended = false

    init() throws {
        let status = czlib_inflate_init2(&stream, gzipWindowBits)
        guard status == Z_OK else { throw CompressionError(problem: "zlib inflateInit2 failed (\(status))") }
    }

    deinit { inflateEnd(&stream) }

    func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        guard !input.isEmpty else { return }
        guard !ended else { throw CompressionError(problem: "data continues after the end of the gzip stream") }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        defer { stream.next_in = nil }
        repeat {
            let status = scratch.drain(&stream, into: &output) { inflate(&$0, Z_NO_FLUSH) }
            switch status {
            case Z_STREAM_END:
                ended = true
                guard stream.avail_in == 0 else {
                    throw CompressionError(problem: "data continues after the end of the gzip stream")
                }
                return
            case Z_OK, Z_BUF_ERROR:
                continue
            default:
                let detail = stream.msg.map { ": " + String(cString: $0) } ?? ""
                throw CompressionError(problem: "corrupt gzip data (zlib \(status)\(detail))")
            }
        } while stream.avail_out == 0 || stream.avail_in > 0
    }

    func finish() throws {
        guard ended else { throw CompressionError(problem: "the gzip stream is truncated") }
    }
}
