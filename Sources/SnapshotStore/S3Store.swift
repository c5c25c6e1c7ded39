import Foundation
import Checksum
import SigV4
import StoreKeys

/// `s3://bucket/prefix?endpoint=…&region=…&path-style=true`: objects in an S3-compatible bucket.
///
/// An object becomes visible only when its upload completes (a single PUT, or a multipart
/// upload's completion), so an interrupted write never looks whole. Memory per open writer or
/// reader is one part (8 MiB), whatever the object's size.
public struct S3Store: SnapshotStore {
    static let partSize = 8 << 20
    let client: S3Client

    public init(location: S3Location, credentials: AWSCredentials) {
        client = S3Client(location: location, credentials: credentials)
    }

    public var location: String { client.location.description }

    public func makeWriter(_ key: String) throws -> any ObjectWriter {
        try StoredObject.requireWritable(key)
        return S3ObjectWriter(client: client, key: key)
    }

    public func makeReader(_ key: String) throws -> any ObjectReader {
        let reader = S3ObjectReader(client: client, key: key)
        try reader.fetchNext()  // fails here, not on first read, when the object is missing
        return reader
    }

    /// The server is asked only for the part of the prefix before its first `/`; the rest is
    /// filtered here. AWS wants `/` in a query value signed as `%2F`, and the S3-compatible
    /// test server (moto, getmoto/moto#5948) verifies it unencoded, so no correct signature of
    /// such a request passes there. The cost on real S3 is listing more than needed.
    public func list(prefix: String) throws -> [StoredObject] {
        let base = client.location.prefix.isEmpty ? "" : client.location.prefix + "/"
        let full = base + prefix
        let serverPrefix = String(full.prefix { $0 != "/" })
        var objects: [StoredObject] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", serverPrefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try client.send("GET", key: nil, query: query)
            guard response.status == 200 else { throw S3Client.error(for: response, location: client.location, key: nil) }
            let text = String(decoding: response.body, as: UTF8.self)
            for contents in XMLText.all("Contents", in: text) {
                guard let key = XMLText.first("Key", in: contents), key.hasPrefix(full),
                      let size = XMLText.first("Size", in: contents).flatMap({ Int64($0) })
                else { continue }
                objects.append(StoredObject(key: String(key.dropFirst(base.count)), size: size, isLeftover: false))
            }
            token = XMLText.first("IsTruncated", in: text) == "true" ? XMLText.first("NextContinuationToken", in: text) : nil
        } while token != nil
        return (objects + (try uploadsInProgress(serverPrefix: serverPrefix, full: full, base: base))).sorted { $0.key < $1.key }
    }

    /// Separates an object's key from the id of a multipart upload to it, in a leftover's key.
    static let uploadMarker = ReservedMarkers.upload

    /// Multipart uploads started and never completed or aborted (a writer killed mid-part):
    /// S3 keeps their parts, and bills them, until they are aborted. Listed as leftovers, so
    /// `snapshots prune` removes them with the rest of an interrupted snapshot.
    private func uploadsInProgress(serverPrefix: String, full: String, base: String) throws -> [StoredObject] {
        var uploads: [StoredObject] = []
        var markers: (key: String, upload: String)?
        repeat {
            var query = [("uploads", ""), ("prefix", serverPrefix)]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.upload)] }
            let response = try client.send("GET", key: nil, query: query)
            guard response.status == 200 else { throw S3Client.error(for: response, location: client.location, key: nil) }
            let text = String(decoding: response.body, as: UTF8.self)
            for upload in XMLText.all("Upload", in: text) {
                guard let key = XMLText.first("Key", in: upload), key.hasPrefix(full),
                      let id = XMLText.first("UploadId", in: upload) else { continue }
                uploads.append(StoredObject(key: String(key.dropFirst(base.count)) + Self.uploadMarker + id, size: 0, isLeftover: true))
            }
            markers = nil
            if XMLText.first("IsTruncated", in: text) == "true", let key = XMLText.first("NextKeyMarker", in: text),
               let upload = XMLText.first("NextUploadIdMarker", in: text) {
                markers = (key, upload)
            }
        } while markers != nil
        return uploads
    }

    /// Deletes an object, or aborts the multipart upload a leftover's key names (the marker and
    /// id that `list` appended to its last segment). A key that only looks like one — an
    /// object someone else put there under such a name — is deleted as the object it is.
    public func delete(_ key: String) throws {
        let name = key.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        if let marker = name.range(of: Self.uploadMarker, options: .backwards) {
            let object = String(key.dropLast(name.distance(from: marker.lowerBound, to: name.endIndex)))
            let response = try client.send("DELETE", key: object, query: [("uploadId", String(name[marker.upperBound...]))])
            if response.status == 204 || response.status == 200 { return }
            guard response.status == 404 else { throw S3Client.error(for: response, location: client.location, key: key) }
        }
        let response = try client.send("DELETE", key: key)
        guard response.status == 204 || response.status == 200 || response.status == 404 else {
            throw S3Client.error(for: response, location: client.location, key: key)
        }
    }
}

final class S3ObjectWriter: ObjectWriter {
    private let client: S3Client
    private let key: String
    private var buffer = Data()
    private var uploadID: String?
    private var etags: [String] = []

    init(client: S3Client, key: String) {
        self.client = client
        self.key = key
        buffer.reserveCapacity(S3Store.partSize)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        while buffer.count >= S3Store.partSize {
            try uploadPart(buffer.prefix(S3Store.partSize))
            buffer.removeFirst(S3Store.partSize)
        }
    }

    func commit() throws {
        guard uploadID != nil else {
            let response = try client.send("PUT", key: key, body: buffer)
            guard response.status == 200 else { throw S3Client.error(for: response, location: client.location, key: key) }
            return
        }
        if !buffer.isEmpty { try uploadPart(buffer) }
        let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\($0.element)</ETag></Part>" }
        let body = Data("<CompleteMultipartUpload>\(parts.joined())</CompleteMultipartUpload>".utf8)
        // The client retries a 5xx or a dropped connection; when the first attempt had in fact
        // completed the object, the retries find the upload gone (NoSuchUpload on S3, a 500 on
        // moto). Whatever the failure, the object is then there, whole, if its ETag is the one
        // these parts make — and only then is the commit a success.
        do {
            let response = try client.send("POST", key: key, query: [("uploadId", uploadID!)],
                                           headers: ["Content-Type": "application/xml"], body: body)
            // S3 can answer 200 and still report an error in the body.
            guard response.status == 200, XMLText.first("Code", in: String(decoding: response.body, as: UTF8.self)) == nil else {
                throw S3Client.error(for: response, location: client.location, key: key)
            }
        } catch {
            guard (try? completedObjectMatchesParts()) == true else { throw error }
        }
        uploadID = nil
    }

    /// S3's ETag of a multipart object: the MD5 of its parts' binary MD5s, then `-` and the
    /// number of parts. Compared with what the object under the key has now.
    private func completedObjectMatchesParts() throws -> Bool {
        var digests: [UInt8] = []
        for etag in etags {
            guard let digest = Digest(hex: etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) else { return false }
            digests += digest.bytes
        }
        let expected = "\(MD5.hash(digests).hex)-\(etags.count)"
        let head = try client.send("HEAD", key: key)
        return head.status == 200 && head.headers["etag"]?.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) == expected
    }

    func abort() {
        guard let uploadID else { return }
        _ = try? client.send("DELETE", key: key, query: [("uploadId", uploadID)])
        self.uploadID = nil
    }

    private func uploadPart(_ part: Data) throws {
        if uploadID == nil {
            let response = try client.send("POST", key: key, query: [("uploads", "")])
            guard response.status == 200, let id = XMLText.first("UploadId", in: String(decoding: response.body, as: UTF8.self)) else {
                throw S3Client.error(for: response, location: client.location, key: key)
            }
            uploadID = id
        }
        let response = try client.send("PUT", key: key, query: [("partNumber", "\(etags.count + 1)"), ("uploadId", uploadID!)],
                                       body: Data(part))
        guard response.status == 200, let etag = response.headers["etag"] else {
            throw S3Client.error(for: response, location: client.location, key: key)
        }
        etags.append(etag)
    }
}

final class S3ObjectReader: ObjectReader {
    private let client: S3Client
    private let key: String
    private var chunk = Data()
    private var offset = 0
    private var fetched: Int64 = 0
    private var size: Int64?

    init(client: S3Client, key: String) {
        self.client = client
        self.key = key
    }

    func read(into buffer: inout [UInt8], limit: Int) throws -> Bool {
        if offset == chunk.count {
            if let size, fetched >= size { return false }
            try fetchNext()
            if chunk.isEmpty { return false }
        }
        let end = min(chunk.count, offset + limit)
        buffer.append(contentsOf: chunk[chunk.startIndex + offset..<chunk.startIndex + end])
        offset = end
        return true
    }

    /// The next 8 MiB, by a ranged GET; learns the object's size from the first answer.
    func fetchNext() throws {
        let range = "bytes=\(fetched)-\(fetched + Int64(S3Store.partSize) - 1)"
        let response = try client.send("GET", key: key, headers: ["Range": range])
        switch response.status {
        case 200, 206:
            chunk = response.body
            offset = 0
            fetched += Int64(chunk.count)
            if let total = response.headers["content-range"]?.split(separator: "/").last.flatMap({ Int64($0) }) {
                size = total
            } else {
                size = fetched  // a 200 without Content-Range is the whole object
            }
        case 416:  // an empty object has no byte 0
            chunk = Data()
            offset = 0
            size = 0
        case 404:
            throw StoreError(.notFound, "\(client.location.description) object \(key) does not exist")
        default:
            throw S3Client.error(for: response, location: client.location, key: key)
        }
    }
}
