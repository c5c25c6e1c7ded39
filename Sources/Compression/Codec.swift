import OperatorErrors

/// A streaming compressor: feed it any number of chunks, then `finish` once.
/// Output is appended to `output`, so the caller decides when to write it out and nothing
/// grows with the size of the stream.
public protocol StreamCompressor: AnyObject {
    func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws
    func finish(into output: inout [UInt8]) throws
}

/// The reverse: chunks of compressed bytes in, raw bytes out; `finish` checks that the
/// stream ended where it should (a truncated file is an error, not a short result).
public protocol StreamDecompressor: AnyObject {
    func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws
    func finish() throws
}

/// A codec as named on the command line and in the manifest: `gzip`, `gzip:1`, `zstd`,
/// `zstd:3`, `none`.
public enum Codec: Equatable, Sendable, CustomStringConvertible {
    case gzip(level: Int)
    case zstd(level: Int)
    case none

    /// Level 1 by default. Measured with `continuity snapshot --jobs 2` on 150 MB of
    /// low-redundancy COPY text (2 cores, libdeflate 1.14): level 1 took 1.42 s for 76 MB,
    /// levels 2-4 1.9-2.2 s for 72 MB, level 6 2.1 s for 71 MB; without compression 0.67 s.
    /// A snapshot taken before a stack is destroyed is on the clock: 5% of size is not worth 45%
    /// more time. (zlib's level 1 took 1.89 s for 83 MB on the same data.)
    public static let defaultGzipLevel = 1
    /// Level 1: on the same kind of text (250 MB, `--jobs 2`) zstd:1 took 1.13-1.22 s for
    /// 98.7 MB, zstd:3 1.79 s for 100.6 MB, gzip:1 1.68-1.90 s for 105.2 MB (README, Choices).
    public static let defaultZstdLevel = 1

    public init(parsing text: String) throws(UsageError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.first?.lowercased() ?? ""
        let level = parts.count > 1 ? Int(parts[1]) : nil
        if parts.count > 1, level == nil {
            throw UsageError("compression level '\(parts[1])' is not a number", fix: "write it as gzip:LEVEL, for example gzip:6")
        }
        switch name {
        case "gzip":
            let level = level ?? Self.defaultGzipLevel
            guard (1...9).contains(level) else {
                throw UsageError("gzip level \(level) is out of range", fix: "use gzip:1 (fastest) to gzip:9 (smallest)")
            }
            self = .gzip(level: level)
        case "zstd":
            let level = level ?? Self.defaultZstdLevel
            guard (1...19).contains(level) else {
                throw UsageError("zstd level \(level) is out of range", fix: "use zstd:1 (fastest) to zstd:19 (smallest)")
            }
            self = .zstd(level: level)
        case "none" where parts.count == 1:
            self = .none
        default:
            throw UsageError("unknown compression '\(text)'", fix: "use gzip, gzip:LEVEL (1-9), zstd, zstd:LEVEL (1-19) or none")
        }
    }

    public var name: String {
        switch self {
        case .gzip: "gzip"
        case .zstd: "zstd"
        case .none: "none"
        }
    }

    public var description: String {
        switch self {
        case .gzip(let level): "gzip:\(level)"
        case .zstd(let level): "zstd:\(level)"
        case .none: "none"
        }
    }

    /// The suffix of stored files after `.copy`, so tools recognise them (`zcat` for `.gz`,
    /// `zstdcat` for `.zst`).
    public var fileExtension: String? {
        switch self {
        case .gzip: "gz"
        case .zstd: "zst"
        case .none: nil
        }
    }

    public func makeCompressor() throws -> any StreamCompressor {
        switch self {
        case .gzip(let level): try GzipCompressor(level: level)
        case .zstd(let level): try ZstdCompressor(level: level)
        case .none: PassThrough()
        }
    }

    public func makeDecompressor() throws -> any StreamDecompressor {
        switch self {
        case .gzip: try GzipDecompressor()
        case .zstd: try ZstdDecompressor()
        case .none: PassThrough()
        }
    }
}

/// The `none` codec: bytes through unchanged.
final class PassThrough: StreamCompressor, StreamDecompressor {
    func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) { output.append(contentsOf: input) }
    func finish(into output: inout [UInt8]) {}
    func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) { output.append(contentsOf: input) }
    func finish() {}
}

/// The codec library failed or the data is not what it should be.
public struct CompressionError: OperatorError, Equatable {
    public let problem: String
    public var status: ExitStatus { .failed }
    public var fix: String? { nil }
}
