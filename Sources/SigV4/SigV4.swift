import Checksum
import Foundation

/// Credentials for S3-compatible stores. Read from the environment only: never from flags.
public struct AWSCredentials: Sendable, Equatable {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> AWSCredentials? {
        guard let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"],
              !id.isEmpty, !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
    }
}

/// AWS Signature Version 4 for one request, as a pure function of its parts and the time.
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    public struct Request {
        public var method: String
        /// The path as sent, already URI-encoded (`/bucket/a%24b`).
        public var path: String
        /// Decoded names and values; encoding and ordering happen here.
        public var query: [(String, String)]
        /// Must include `host`.
        public var headers: [String: String]
        /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
        public var payloadHash: String

        public init(method: String, path: String, query: [(String, String)] = [], headers: [String: String], payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The headers to add: `x-amz-date`, `x-amz-content-sha256`, the session token if any,
    /// and `Authorization`.
    public func sign(_ request: Request, at date: Date) -> [String: String] {
        let stamp = Self.timestamp(date)
        var request = request
        request.headers["x-amz-date"] = stamp
        request.headers["x-amz-content-sha256"] = request.payloadHash
        if let token = credentials.sessionToken { request.headers["x-amz-security-token"] = token }
        let (canonical, signedHeaders) = canonicalRequest(request)
        let scope = "\(stamp.prefix(8))/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(stamp)\n\(scope)\n\(SHA256Hasher.hash(Array(canonical.utf8)).hex)"
        let signature = HMACSHA256.authenticate(Array(toSign.utf8), key: signingKey(day: String(stamp.prefix(8)))).hex
        var added = request.headers.filter { ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token"].contains($0.key) }
        added["Authorization"] = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return added
    }

    func canonicalRequest(_ request: Request) -> (text: String, signedHeaders: String) {
        let pairs: [(name: String, value: String)] = request.query.map { (Self.encode($0.0), Self.encode($0.1)) }
        let sortedPairs = pairs.sorted { $0.name == $1.name ? $0.value < $1.value : $0.name < $1.name }
        let query = sortedPairs.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        let headers: [(name: String, value: String)] = request.headers
            .map { ($0.key.lowercased(), Self.trim($0.value)) }
            .sorted { $0.name < $1.name }
        let signed = headers.map(\.name).joined(separator: ";")
        let headerBlock = headers.map { "\($0.name):\($0.value)\n" }.joined()
        let path = request.path.isEmpty ? "/" : request.path
        let text = [request.method, path, query, headerBlock, signed, request.payloadHash].joined(separator: "\n")
        return (text, signed)
    }

    func signingKey(day: String) -> [UInt8] {
        var key = HMACSHA256.authenticate(Array(day.utf8), key: Array("AWS4\(credentials.secretAccessKey)".utf8)).bytes
        for part in [region, service, "aws4_request"] { key = HMACSHA256.authenticate(Array(part.utf8), key: key).bytes }
        return key
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters.
    public static func encode(_ text: String, keepingSlashes: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            if isUnreserved(byte) || (keepingSlashes && byte == UInt8(ascii: "/")) {
                out.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    static func trim(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}
