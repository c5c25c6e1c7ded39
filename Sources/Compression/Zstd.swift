import CZstd

/// zstd through libzstd's streaming API: one frame per stream, written as input arrives.
/// `zstdcat` reads the files; the decompressor also accepts frames back to back.
final class ZstdCompressor: StreamCompressor {
    private let context: OpaquePointer
    private var scratch = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())

    init(level: Int) throws {
        guard let context = ZSTD_createCCtx() else { throw CompressionError(problem: "libzstd could not allocate a compressor") }
        self.context = context
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level)), "set level \(level)")
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1), "enable checksums")
    }

    deinit { ZSTD_freeCCtx(context) }

    func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while source.pos < source.size { _ = try step(&source, ZSTD_e_continue, into: &output) }
    }

    func finish(into output: inout [UInt8]) throws {
        var source = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&source, ZSTD_e_end, into: &output) != 0 {}
    }

    /// One call into libzstd; returns what it says remains to flush.
    private func step(_ source: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective, into output: inout [UInt8]) throws -> Int {
        let (remaining, produced) = scratch.withUnsafeMutableBytes { buffer in
            var target = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &target, &source, directive)
            return (remaining, target.pos)
        }
        try check(remaining, "compress")
        output.append(contentsOf: scratch[..<produced])
        return remaining
    }
}

/// The reverse; `finish` fails unless the last frame ended (a truncated file is an error).
final class ZstdDecompressor: StreamDecompressor {
    private let context: OpaquePointer
    private var scratch = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    /// libzstd's hint after the last call: 0 exactly when a frame has just been completed.
    private var pending = 0
    private var sawInput = false

    init() throws {
        guard let context = ZSTD_createDCtx() else { throw CompressionError(problem: "libzstd could not allocate a decompressor") }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        guard !input.isEmpty else { return }
        sawInput = true
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var produced = 0
        repeat {
            let result = scratch.withUnsafeMutableBytes { buffer in
                var target = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                let hint = ZSTD_decompressStream(context, &target, &source)
                return (hint, target.pos)
            }
            guard ZSTD_isError(result.0) == 0 else {
                throw CompressionError(problem: "corrupt zstd data (\(String(cString: ZSTD_getErrorName(result.0))))")
            }
            pending = result.0
            produced = result.1
            output.append(contentsOf: scratch[..<produced])
        } while source.pos < source.size || produced == scratch.count
    }

    func finish() throws {
        guard sawInput, pending == 0 else { throw CompressionError(problem: "the zstd data ends in the middle of a frame") }
    }
}

private func check(_ result: Int, _ what: String) throws {
    guard ZSTD_isError(result) == 0 else {
        throw CompressionError(problem: "libzstd failed to \(what): \(String(cString: ZSTD_getErrorName(result)))")
    }
}
