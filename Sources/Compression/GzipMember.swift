/// The gzip member continuity writes: a plain RFC 1952 member whose header carries one extra
/// subfield, `CN`, holding the member's whole length. `zcat` and zlib skip extra fields; our
/// reader uses the length to hand each complete member to libdeflate, which decompresses a
/// whole buffer about 1.7 times as fast as zlib's streaming inflate (measured on 217 MB of
/// COPY text: 0.45 s against 0.78 s). BGZF (samtools) does the same with a 16-bit length.
enum GzipMember {
    static let headerSize = 20
    static let trailerSize = 8
    /// A member holds at most `GzipCompressor.blockSize` (1 MiB) of raw data, which deflate
    /// never expands by more than a few bytes per 64 KiB; anything claiming more is damaged.
    static let maximumSize = 4 << 20
    static let maximumRawSize = 4 << 20

    /// ID1 ID2 CM=deflate FLG=FEXTRA MTIME=0 XFL=0 OS=unix XLEN=8, then subfield C N LEN=4 and
    /// the member's length, little-endian.
    static func header(memberSize: Int) -> [UInt8] {
        fixedFields + [0, 0, 0, 0, 0, 3] + extraField + littleEndian(UInt32(memberSize))
    }

    private static let fixedFields: [UInt8] = [0x1F, 0x8B, 8, 0x04]
    private static let extraField: [UInt8] = [8, 0, UInt8(ascii: "C"), UInt8(ascii: "N"), 4, 0]

    static func trailer(crc32: UInt32, rawSize: Int) -> [UInt8] {
        littleEndian(crc32) + littleEndian(UInt32(truncatingIfNeeded: rawSize))
    }

    enum Probe: Equatable {
        /// Fewer than `headerSize` bytes: wait for more.
        case needMore
        /// Not a header we wrote (another tool's gzip, or an older continuity's).
        case foreign
        /// One of ours, this long in all.
        case member(size: Int)
    }

    static func probe(_ bytes: UnsafeRawBufferPointer) -> Probe {
        guard bytes.count >= headerSize else { return .needMore }
        guard bytes[0..<4].elementsEqual(fixedFields), bytes[10..<16].elementsEqual(extraField) else { return .foreign }
        return .member(size: Int(readLittleEndian(bytes, at: 16)))
    }

    /// ISIZE: the raw size modulo 2^32, from the member's last four bytes.
    static func rawSize(ofMember member: UnsafeRawBufferPointer) -> Int {
        Int(readLittleEndian(member, at: member.count - 4))
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    private static func readLittleEndian(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
}
