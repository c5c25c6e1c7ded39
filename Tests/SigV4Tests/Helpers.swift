import Checksum

enum SHA256Hex {
    static func of(_ text: String) -> String { SHA256Hasher.hash(Array(text.utf8)).hex }
}

enum HMACHex {
    static func of(_ text: String, key: [UInt8]) -> String { HMACSHA256.authenticate(Array(text.utf8), key: key).hex }
}
