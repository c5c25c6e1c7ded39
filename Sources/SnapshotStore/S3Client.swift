import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Checksum
import SigV4

/// Where an `s3://bucket/prefix?endpoint=…&region=…&path-style=true` store lives.
public struct S3Location: Sendable, Equatable {
    public let bucket: String
    /// Key prefix inside the bucket, without leading or trailing slash ("" for none).
    public let prefix: String
    public let endpoint: URL
    public let region: String
    public let pathStyle: Bool

    public init(_ url: URL) throws {
        guard let bucket = url.host, !bucket.isEmpty else {
            throw StoreError(.badURL, "'\(url.absoluteString)' names no bucket", fix: "write s3://BUCKET/PREFIX?region=…")
        }
        let items = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? []
        func item(_ name: String) -> String? { items.first { $0.name == name }?.value }
        let known: Set<String> = ["endpoint", "region", "path-style"]
        if let unknown = items.first(where: { !known.contains($0.name) }) {
            throw StoreError(.badURL, "unknown s3:// store setting '\(unknown.name)'", fix: "use endpoint=URL, region=NAME and path-style=true|false")
        }
        self.bucket = bucket
        self.prefix = url.path.split(separator: "/").joined(separator: "/")
        self.region = item("region") ?? "us-east-1"
        if let text = item("endpoint") {
            guard let endpoint = URL(string: text), let scheme = endpoint.scheme, ["http", "https"].contains(scheme), endpoint.host != nil else {
                throw StoreError(.badURL, "endpoint '\(text)' is not an http(s) URL", fix: "write endpoint=https://s3.example.com")
            }
            self.endpoint = endpoint
        } else {
            self.endpoint = URL(string: "https://s3.\(self.region).amazonaws.com")!
        }
        self.pathStyle = item("path-style").map { $0 == "true" } ?? false
    }

    /// The store's URL for messages: no credentials ever appear in it.
    public var description: String {
        "s3://\(bucket)/\(prefix)?endpoint=\(endpoint.absoluteString)&region=\(region)" + (pathStyle ? "&path-style=true" : "")
    }
}

/// Signed, blocking S3 requests with retries. Called only from threads that may block.
final class S3Client: Sendable {
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: Data
    }

    let location: S3Location
    private let signer: SigV4Signer
    private let session: URLSession
    static let attempts = 5

    init(location: S3Location, credentials: AWSCredentials) {
        self.location = location
        self.signer = SigV4Signer(credentials: credentials, region: location.region)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        self.session = URLSession(configuration: configuration)
    }

    /// The object key (below the store's prefix), or nil for the bucket itself.
    func send(_ method: String, key: String?, query: [(String, String)] = [], headers: [String: String] = [:],
              body: Data = Data()) throws -> Response {
        var path = location.pathStyle ? "/\(location.bucket)" : ""
        if let key {
            let full = location.prefix.isEmpty ? key : "\(location.prefix)/\(key)"
            path += "/" + SigV4Signer.encode(full, keepingSlashes: true)
        } else if path.isEmpty {
            path = "/"
        }
        var components = URLComponents(url: location.endpoint, resolvingAgainstBaseURL: false)!
        if !location.pathStyle { components.host = "\(location.bucket).\(components.host!)" }
        components.percentEncodedPath = path
        components.percentEncodedQuery = query.isEmpty ? nil
            : query.map { "\(SigV4Signer.encode($0.0))=\(SigV4Signer.encode($0.1))" }.joined(separator: "&")
        let url = components.url!
        let host = url.port.map { "\(url.host!):\($0)" } ?? url.host!
        let payloadHash = SHA256Hasher.hash(body).hex

        var lastError: (any Error)?
        for attempt in 0..<Self.attempts {
            if attempt > 0 { Thread.sleep(forTimeInterval: 0.2 * pow(2, Double(attempt - 1))) }  // backoff, not synchronisation
            var request = URLRequest(url: url)
            request.httpMethod = method
            var all = headers
            all["Host"] = host
            let signed = signer.sign(.init(method: method, path: path, query: query, headers: all, payloadHash: payloadHash), at: Date())
            for (name, value) in headers.merging(signed, uniquingKeysWith: { $1 }) { request.setValue(value, forHTTPHeaderField: name) }
            // An empty PUT still goes with `Content-Length: 0` (measured: FoundationNetworking
            // over curl 7.88 sends it with or without a body), as S3 requires.
            if !body.isEmpty { request.httpBody = body }
            do {
                let response = try perform(request)
                if response.status >= 500 || response.status == 429 {
                    lastError = Self.error(for: response, location: location, key: key)
                    continue
                }
                return response
            } catch let error as URLError {
                lastError = error
                continue
            }
        }
        if let error = lastError as? URLError {
            throw StoreError(.io, "cannot reach the store at \(location.endpoint.absoluteString): \(error.localizedDescription)",
                             fix: "check the endpoint in --store and that the service is up")
        }
        throw lastError!
    }

    private func perform(_ request: URLRequest) throws -> Response {
        let outcome = Outcome()
        session.dataTask(with: request) { data, response, error in
            outcome.finish(data: data, response: response, error: error)
        }.resume()
        return try outcome.wait()
    }

    /// The result of one request, handed from URLSession's thread to the waiting one.
    private final class Outcome: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var result: Result<Response, any Error>?

        func finish(data: Data?, response: URLResponse?, error: (any Error)?) {
            if let error {
                result = .failure(error as? URLError ?? URLError(.unknown))
            } else if let http = response as? HTTPURLResponse {
                let headers = Dictionary(http.allHeaderFields.map { ("\($0.key)".lowercased(), "\($0.value)") }, uniquingKeysWith: { $1 })
                result = .success(Response(status: http.statusCode, headers: headers, body: data ?? Data()))
            } else {
                result = .failure(URLError(.badServerResponse))
            }
            done.signal()
        }

        func wait() throws -> Response {
            done.wait()
            return try result!.get()
        }
    }
}

extension S3Client {
/// An S3 error response, turned into what an operator can act on.
static func error(for response: Response, location: S3Location, key: String?) -> StoreError {
    let text = String(decoding: response.body, as: UTF8.self)
    let code = XMLText.first("Code", in: text) ?? "HTTP \(response.status)"
    let message = XMLText.first("Message", in: text) ?? ""
    let object = key.map { "\(location.description) object \($0)" } ?? location.description
    switch code {
    case "SignatureDoesNotMatch":
        return StoreError(.rejected, "the store rejected the request signature (SignatureDoesNotMatch)",
                          fix: "check that AWS_SECRET_ACCESS_KEY belongs to AWS_ACCESS_KEY_ID")
    case "InvalidAccessKeyId":
        return StoreError(.rejected, "the store does not know the access key in AWS_ACCESS_KEY_ID", fix: "check AWS_ACCESS_KEY_ID")
    case "NoSuchBucket":
        return StoreError(.rejected, "bucket \(location.bucket) does not exist at \(location.endpoint.absoluteString)",
                          fix: "create it, or fix the bucket in --store")
    case "NoSuchKey":
        return StoreError(.notFound, "\(object) does not exist")
    case "AccessDenied":
        return StoreError(.io, "access denied to \(object)", fix: "grant the key s3:GetObject, s3:PutObject, s3:ListBucket and s3:DeleteObject")
    default:
        return StoreError(.io, "the store answered \(code) for \(object)" + (message.isEmpty ? "" : ": \(message)"))
    }
}
}

/// Just enough XML for S3's small, flat answers.
enum XMLText {
    static func all(_ element: String, in text: String) -> [String] {
        text.matches(of: try! Regex("<\(element)>(.*?)</\(element)>").dotMatchesNewlines()).compactMap { match in
            (match.output[1].substring).map { unescape(String($0)) }
        }
    }

    static func first(_ element: String, in text: String) -> String? { all(element, in: text).first }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
