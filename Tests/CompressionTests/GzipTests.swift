@testable import Compression
import Foundation
import Parallelism
import Testing

@Suite struct GzipTests {
    /// Text like COPY output: repetitive structure, varying values.
    static let sample: [UInt8] = Array((1...40_000).map { "\($0)\tcustomer \($0 % 977)\t\($0 * 7919 % 10007)\n" }.joined().utf8)

    @Test func roundTripsInArbitraryChunks() async throws {
        let compressed = try await compress(Self.sample, codec: .gzip(level: 1), chunk: 1000)
        #expect(compressed.count < Self.sample.count / 2)
        for chunk in [1, 7, 4096, 1 << 20] {
            #expect(try await decompress(compressed, codec: .gzip(level: 1), chunk: chunk) == Self.sample)
        }
    }

    @Test func zcatReadsWhatWeWrite() async throws {
        let compressed = try await compress(Self.sample, codec: .gzip(level: 6), chunk: 65536)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-\(UUID()).copy.gz")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(compressed).write(to: file)
        #expect(try await run("/bin/sh", ["-c", "zcat '\(file.path)'"]) == Data(Self.sample))
    }

    @Test func readsWhatGzipWrites() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-\(UUID()).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(Self.sample).write(to: file)
        let compressed = try await run("/bin/sh", ["-c", "gzip -c '\(file.path)'"])
        #expect(try await decompress(Array(compressed), codec: .gzip(level: 1), chunk: 3000) == Self.sample)
    }

    /// Over 1 MiB of input becomes several gzip members; zlib and zcat read them as one stream,
    /// and streams that other tools wrote as several members read back too.
    @Test func multipleMembersReadAsOneStream() async throws {
        let large = Array(Self.sample.prefix(1 << 20)) + Self.sample + Self.sample  // > 3 MiB: four members
        let compressed = try await compress(large, codec: .gzip(level: 1), chunk: 100_000)
        let members = zip(compressed, compressed.dropFirst()).enumerated().filter { $0.element == (0x1f, 0x8b) }.count
        #expect(members >= 4)
        #expect(try await decompress(compressed, codec: .gzip(level: 1), chunk: 4097) == large)

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-\(UUID()).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(Self.sample).write(to: file)
        let twice = try await run("/bin/sh", ["-c", "gzip -c '\(file.path)'; gzip -c '\(file.path)'"])
        #expect(try await decompress(Array(twice), codec: .gzip(level: 1), chunk: 5000) == Self.sample + Self.sample)
    }

    @Test func anEmptyStreamRoundTrips() async throws {
        let compressed = try await compress([], codec: .gzip(level: 1), chunk: 10)
        #expect(!compressed.isEmpty)  // header and trailer
        #expect(try await decompress(compressed, codec: .gzip(level: 1), chunk: 10) == [])
    }

    @Test func aTruncatedStreamIsAnError() async throws {
        let compressed = try await compress(Self.sample, codec: .gzip(level: 1), chunk: 65536)
        await #expect(throws: CompressionError.self) {
            try await decompress(Array(compressed.dropLast(9)), codec: .gzip(level: 1), chunk: 4096)
        }
    }

    @Test func aFlippedByteIsAnError() async throws {
        var compressed = try await compress(Self.sample, codec: .gzip(level: 1), chunk: 65536)
        compressed[compressed.count / 2] ^= 0x5A
        await #expect(throws: CompressionError.self) {
            try await decompress(compressed, codec: .gzip(level: 1), chunk: 4096)
        }
    }

    @Test func trailingGarbageIsAnError() async throws {
        let compressed = try await compress(Self.sample, codec: .gzip(level: 1), chunk: 65536)
        await #expect(throws: CompressionError.self) {
            try await decompress(compressed + [1, 2, 3], codec: .gzip(level: 1), chunk: 4096)
        }
    }

    @Test func noneIsThePlainBytes() async throws {
        #expect(try await compress(Self.sample, codec: .none, chunk: 999) == Self.sample)
    }
}

@Suite struct CodecParsingTests {
    @Test func parsesNamesAndLevels() async throws {
        #expect(try Codec(parsing: "gzip") == .gzip(level: Codec.defaultGzipLevel))
        #expect(try Codec(parsing: "gzip:9") == .gzip(level: 9))
        #expect(try Codec(parsing: "GZIP:3") == .gzip(level: 3))
        #expect(try Codec(parsing: "none") == Codec.none)
        #expect(Codec.gzip(level: 4).description == "gzip:4")
        #expect(Codec.gzip(level: 4).fileExtension == "gz")
        #expect(Codec.none.fileExtension == nil)
    }

    @Test(arguments: ["gzip:0", "gzip:10", "gzip:x", "lz4", "", "none:1"])
    func refusesWhatItCannotDo(_ text: String) {
        #expect(throws: (any Error).self) { try Codec(parsing: text) }
    }
}

/// On a thread of its own: in a debug build, feeding a few MB through a codec in small chunks
/// takes seconds of CPU, which would stop the two-thread cooperative pool other tests share.
func compress(_ input: [UInt8], codec: Codec, chunk: Int) async throws -> [UInt8] {
    try await Blocking.run { try compressed(input, codec: codec, chunk: chunk) }
}

func decompress(_ input: [UInt8], codec: Codec, chunk: Int) async throws -> [UInt8] {
    try await Blocking.run { try decompressed(input, codec: codec, chunk: chunk) }
}

private func compressed(_ input: [UInt8], codec: Codec, chunk: Int) throws -> [UInt8] {
    let compressor = try codec.makeCompressor()
    var output: [UInt8] = []
    for start in stride(from: 0, to: input.count, by: chunk) {
        try input[start..<min(start + chunk, input.count)].withUnsafeBytes { try compressor.compress($0, into: &output) }
    }
    try compressor.finish(into: &output)
    return output
}

private func decompressed(_ input: [UInt8], codec: Codec, chunk: Int) throws -> [UInt8] {
    let decompressor = try codec.makeDecompressor()
    var output: [UInt8] = []
    for start in stride(from: 0, to: input.count, by: chunk) {
        try input[start..<min(start + chunk, input.count)].withUnsafeBytes { try decompressor.decompress($0, into: &output) }
    }
    try decompressor.finish()
    return output
}

/// Awaits the tool without holding a thread of the cooperative pool, which other tests share.
func run(_ tool: String, _ arguments: [String]) async throws -> Data {
    let process = try ChildProcess(executable: tool, arguments: arguments,
                                   environment: ProcessInfo.processInfo.environment, standardOutput: .capture)
    #expect(await process.exited() == 0, "\(tool) \(arguments)")
    return process.captured(1)
}

@Suite struct GzipMemberTests {
    @Test func everyMemberSaysHowLongItIs() async throws {
        let input = [UInt8](repeating: 7, count: GzipCompressor.blockSize + 100)  // cheap to build: tests share two threads
        let compressed = try await compress(input, codec: .gzip(level: 1), chunk: 70_000)
        var offset = 0, members = 0
        while offset < compressed.count {
            let probe = compressed.withUnsafeBytes { GzipMember.probe(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            guard case .member(let size) = probe else { Issue.record("no length at byte \(offset): \(probe)"); return }
            offset += size
            members += 1
        }
        #expect(offset == compressed.count)
        #expect(members == 2)
    }

    /// A member from gzip(1) has no length in its header, so zlib reads it.
    @Test func aForeignMemberIsReadByZlib() async throws {
        let large = GzipTests.sample
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-\(UUID()).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(large).write(to: file)
        let compressed = Array(try await run("/bin/sh", ["-c", "gzip -1 -c '\(file.path)'"]))
        #expect(compressed.withUnsafeBytes { GzipMember.probe($0) } == .foreign)
        #expect(try await decompress(compressed, codec: .gzip(level: 1), chunk: 8192) == large)
    }

    /// Ours, then another tool's: zlib takes over at the member boundary.
    @Test func oursThenForeignMembersReadAsOneStream() async throws {
        let ours = try await compress(GzipTests.sample, codec: .gzip(level: 1), chunk: 65536)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-\(UUID()).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(GzipTests.sample).write(to: file)
        let foreign = Array(try await run("/bin/sh", ["-c", "gzip -c '\(file.path)'"]))
        #expect(try await decompress(ours + foreign, codec: .gzip(level: 1), chunk: 3000) == GzipTests.sample + GzipTests.sample)
    }

    @Test func aDamagedLengthIsAnError() async throws {
        var compressed = try await compress(GzipTests.sample, codec: .gzip(level: 1), chunk: 65536)
        compressed[16] ^= 0x01  // the length's lowest byte
        await #expect(throws: CompressionError.self) { try await decompress(compressed, codec: .gzip(level: 1), chunk: 4096) }
    }
}

@Suite struct GzipRedundantBlockTests {
    /// Blank-padded rows (pgbench's shape) shrink far more than 8:1, so blocks after the first
    /// go through zlib; then text again through libdeflate. All of it reads back, by us and zcat.
    @Test func redundantBlocksGoThroughZlibAndReadBack() async throws {
        let padded = Array((1...40_000).map { "\($0)\t1\t0\t" + String(repeating: " ", count: 84) + "\n" }.joined().utf8)
        let input = padded + GzipTests.sample
        let compressed = try await compress(input, codec: .gzip(level: 1), chunk: 1 << 16)
        #expect(compressed.count * 8 < padded.count)
        #expect(try await decompress(compressed, codec: .gzip(level: 1), chunk: 5000) == input)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-\(UUID()).copy.gz")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(compressed).write(to: file)
        #expect(try await run("/bin/sh", ["-c", "zcat '\(file.path)'"]) == Data(input))
    }
}
