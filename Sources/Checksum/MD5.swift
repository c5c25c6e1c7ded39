import CCrypto

/// MD5, only to recompute what S3 reports as a multipart object's ETag (the MD5 of its parts'
/// MD5s): never as a checksum of our own, which is SHA-256.
public enum MD5 {
    public static func hash(_ bytes: [UInt8]) -> Digest {
        var output = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        bytes.withUnsafeBytes { _ = EVP_Digest($0.baseAddress, $0.count, &output, &length, EVP_md5(), nil) }
        return Digest(bytes: output)
    }
}
