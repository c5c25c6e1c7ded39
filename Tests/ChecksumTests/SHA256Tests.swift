import Checksum
import Testing

@Suite struct SHA256Tests {
    @Test func matchesTheStandardVectors() {
        #expect(SHA256Hasher.hash([UInt8]()).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Hasher.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func streamingEqualsOneShot() {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let hasher = SHA256Hasher()
        for start in stride(from: 0, to: data.count, by: 777) { hasher.update(data[start..<min(start + 777, data.count)]) }
        #expect(hasher.finish() == SHA256Hasher.hash(data))
    }

    /// RFC 4231, test case 2.
    @Test func hmacMatchesRFC4231() {
        let mac = HMACSHA256.authenticate(Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8))
        #expect(mac.hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func hexRoundTrips() {
        let digest = SHA256Hasher.hash(Array("abc".utf8))
        #expect(Digest(hex: digest.hex) == digest)
        #expect(Digest(hex: "zz") == nil)
    }
}
