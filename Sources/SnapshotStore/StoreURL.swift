import Foundation
import SigV4

/// Opens the store a `--store` URL names.
public enum StoreURL {
    /// S3 credentials come from `environment` (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    /// AWS_SESSION_TOKEN), never from the URL.
    public static func open(_ text: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any SnapshotStore {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else {
            throw StoreError(.badURL, "'\(text)' is not a store URL", fix: "use file:///path/to/dir or s3://bucket/prefix?endpoint=…&region=…")
        }
        switch scheme {
        case "file":
            guard url.host == nil || url.host == "" || url.host == "localhost", !url.path.isEmpty else {
                throw StoreError(.badURL, "'\(text)' is not a local path", fix: "write file:///absolute/path (three slashes)")
            }
            return try FileStore(root: url.path)
        case "s3":
            if url.user != nil || url.password != nil {
                throw StoreError(.badURL, "an s3:// store URL must not carry credentials",
                                 fix: "put them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            }
            let location = try S3Location(url)
            guard let credentials = AWSCredentials.fromEnvironment(environment) else {
                throw StoreError(.rejected, "the s3:// store needs credentials",
                                 fix: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN if temporary)")
            }
            return S3Store(location: location, credentials: credentials)
        default:
            throw StoreError(.badURL, "unknown store scheme '\(scheme)'", fix: "use file:///path/to/dir or s3://bucket/prefix?endpoint=…&region=…")
        }
    }
}
