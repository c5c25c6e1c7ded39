@testable import Compression
import Foundation
import Testing

@Suite struct ZstdTests {
    static let codec = Codec.zstd(level: 3)

    @Test func roundTripsInArbitraryChunks() async throws {
        let input = GzipTests.sample + GzipTests.sample
        let compressed = try await compress(input, codec: Self.codec, chunk: 1000)
        #expect(compressed.count < input.count / 3)
        for chunk in [1, 7, 4096, 1 << 20] {
            #expect(try await decompress(compressed, codec: Self.codec, chunk: chunk) == input)
        }
    }

    @Test func zstdcatReadsWhatWeWrite() async throws {
        let compressed = try await compress(GzipTests.sample, codec: .zstd(level: 1), chunk: 65536)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-\(UUID()).copy.zst")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(compressed).write(to: file)
        #expect(try await run("/bin/sh", ["-c", "zstdcat '\(file.path)'"]) == Data(GzipTests.sample))
    }

    @Test func anEmptyStreamRoundTrips() async throws {
        let compressed = try await compress([], codec: Self.codec, chunk: 10)
        #expect(!compressed.isEmpty)  // a frame header even for nothing
        #expect(try await decompress(compressed, codec: Self.codec, chunk: 10) == [])
    }

    @Test func aTruncatedStreamIsAnError() async throws {
        let compressed = try await compress(GzipTests.sample, codec: Self.codec, chunk: 65536)
        await #expect(throws: CompressionError.self) {
            try await decompress(Array(compressed.dropLast(5)), codec: Self.codec, chunk: 4096)
        }
    }

    @Test func aFlippedByteIsAnError() async throws {
        var compressed = try await compress(GzipTests.sample, codec: Self.codec, chunk: 65536)
        compressed[compressed.count / 2] ^= 0x5A
        await #expect(throws: CompressionError.self) {
            try await decompress(compressed, codec: Self.codec, chunk: 4096)
        }
    }

    @Test func trailingGarbageIsAnError() async throws {
        let compressed = try await compress(GzipTests.sample, codec: Self.codec, chunk: 65536)
        await #expect(throws: CompressionError.self) {
            try await decompress(compressed + [1, 2, 3], codec: Self.codec, chunk: 4096)
        }
    }

    @Test func parsesNamesAndLevels() async throws {
        #expect(try Codec(parsing: "zstd") == .zstd(level: Codec.defaultZstdLevel))
        #expect(try Codec(parsing: "zstd:19") == .zstd(level: 19))
        #expect(Codec.zstd(level: 2).description == "zstd:2")
        #expect(Codec.zstd(level: 2).fileExtension == "zst")
        #expect(throws: (any Error).self) { try Codec(parsing: "zstd:20") }
        #expect(throws: (any Error).self) { try Codec(parsing: "zstd:0") }
    }
}
