import Foundation

/// Opens the store a `--store` URL names.
public enum StoreURL {
    public static func open(_ text: String) throws -> any SnapshotStore {
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
            throw StoreError(.unsupported, "the s3:// store is not built yet", fix: "use a file:///path store for now")
        default:
            throw StoreError(.badURL, "unknown store scheme '\(scheme)'", fix: "use file:///path/to/dir or s3://bucket/prefix?endpoint=…&region=…")
        }
    }
}
