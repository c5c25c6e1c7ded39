import Foundation
import Parallelism
import SigV4
@testable import SnapshotStore
import StoreContract
import Testing
import TestSupport

/// The S3 driver against the test bed's S3-compatible server, which checks every signature.
@Suite struct S3StoreTests {
    static func environment(secret: String? = nil) throws -> [String: String] {
        ["AWS_ACCESS_KEY_ID": try TestBed.setting("CONTINUITY_TEST_S3_ACCESS_KEY_ID"),
         "AWS_SECRET_ACCESS_KEY": try secret ?? TestBed.setting("CONTINUITY_TEST_S3_SECRET_ACCESS_KEY")]
    }

    /// A store under a prefix no other test uses.
    static func url(bucket: String? = nil) throws -> String {
        let endpoint = try TestBed.setting("CONTINUITY_TEST_S3_ENDPOINT")
        let bucket = try bucket ?? TestBed.setting("CONTINUITY_TEST_S3_BUCKET")
        return "s3://\(bucket)/\(uniqueName("tests"))?endpoint=\(endpoint)&region=us-east-1&path-style=true"
    }

    static func store() throws -> any SnapshotStore { try StoreURL.open(url(), environment: environment()) }

    @Test(arguments: StoreContract.all.map(\.0))
    func meetsTheStoreContract(_ name: String) async throws {
        try await Blocking.run {
            try StoreContract.all.first { $0.0 == name }!.1(try Self.store())
        }
    }

    @Test func largeObjectsGoUpInPartsAndComeBackWhole() async throws {
        try await Blocking.run {
            let store = try Self.store()
            let writer = try store.makeWriter("big/object")
            let chunk = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
            for _ in 0..<19 { try chunk.withUnsafeBytes { try writer.write($0) } }  // 19 MiB: three parts
            // Not visible before completion, except as the leftover an interrupted upload would be.
            #expect(try store.list(prefix: "big/").map(\.isLeftover) == [true])
            try writer.commit()
            #expect(try store.list(prefix: "big/") == [StoredObject(key: "big/object", size: 19 << 20, isLeftover: false)])
            let reader = try store.makeReader("big/object")
            var total = 0, buffer: [UInt8] = []
            var matches = true
            while try reader.read(into: &buffer, limit: 1 << 20) {
                matches = matches && buffer == Array(chunk[0..<buffer.count])
                total += buffer.count
                buffer.removeAll(keepingCapacity: true)
            }
            #expect(total == 19 << 20)
            #expect(matches)
        }
    }

    /// A writer killed after its first part leaves a multipart upload S3 keeps (and bills):
    /// it is listed as a leftover, and deleting that leftover aborts the upload.
    @Test func anAbandonedMultipartUploadIsALeftoverThatDeleteAborts() async throws {
        try await Blocking.run {
            let store = try Self.store()
            let writer = try store.makeWriter("s/20260101T000000Z-0001/data/1.0.copy.gz")
            let chunk = [UInt8](repeating: 9, count: 9 << 20)  // one part goes up
            try chunk.withUnsafeBytes { try writer.write($0) }
            let leftovers = try store.list(prefix: "s/")  // no commit, no abort: what kill -9 leaves
            #expect(leftovers.count == 1 && leftovers[0].isLeftover)
            #expect(leftovers.first?.key.hasPrefix("s/20260101T000000Z-0001/data/1.0.copy.gz.upload-") == true)
            try store.delete(leftovers[0].key)
            #expect(try store.list(prefix: "s/").isEmpty)
            withExtendedLifetime(writer) {}
        }
    }

    @Test func anEmptyObjectRoundTrips() async throws {
        try await Blocking.run {
            let store = try Self.store()
            try store.put("empty", [])
            #expect(try store.get("empty") == [])
        }
    }

    @Test func aWrongSecretIsRejectedWithAClearReason() async throws {
        try await Blocking.run {
            let store = try StoreURL.open(Self.url(), environment: Self.environment(secret: "wrong-secret"))
            let error = #expect(throws: StoreError.self) { try store.put("x", [1]) }
            #expect(error?.problem.contains("SignatureDoesNotMatch") == true)
            #expect(error?.status == .badInput)
        }
    }

    @Test func anUnknownBucketIsNamed() async throws {
        try await Blocking.run {
            let store = try StoreURL.open(Self.url(bucket: "no-such-bucket-here"), environment: Self.environment())
            let error = #expect(throws: StoreError.self) { try store.list(prefix: "") }
            #expect(error?.problem.contains("bucket no-such-bucket-here does not exist") == true)
        }
    }

    @Test func missingCredentialsAndBadURLsAreBadInput() async throws {
        try await Blocking.run {
            let noCredentials = #expect(throws: StoreError.self) { try StoreURL.open(Self.url(), environment: [:]) }
            #expect(noCredentials?.status == .badInput)
            #expect(throws: StoreError.self) { try StoreURL.open("s3://key:secret@bucket/p", environment: Self.environment()) }
            #expect(throws: StoreError.self) { try StoreURL.open("s3://bucket/p?colour=blue", environment: Self.environment()) }
            #expect(throws: StoreError.self) { try StoreURL.open("s3://bucket/p?endpoint=ftp://x", environment: Self.environment()) }
        }
    }

    @Test func anUnreachableEndpointFailsAfterRetries() async throws {
        try await Blocking.run {
            let store = try StoreURL.open("s3://b/p?endpoint=http://127.0.0.1:1&path-style=true", environment: Self.environment())
            let error = #expect(throws: StoreError.self) { try store.list(prefix: "") }
            #expect(error?.problem.hasPrefix("cannot reach the store at http://127.0.0.1:1") == true)
        }
    }

    @Test func theLocationNeverShowsCredentials() async throws {
        try await Blocking.run {
            let store = try Self.store()
            #expect(!store.location.contains(try TestBed.setting("CONTINUITY_TEST_S3_SECRET_ACCESS_KEY")))
            #expect(store.location.hasPrefix("s3://continuity-test/tests_"))
        }
    }

    /// The answer to CompleteMultipartUpload is lost after S3 has completed the object (a 5xx
    /// from a proxy, a dropped connection); the retry finds the upload gone (NoSuchUpload).
    /// Played here by completing the upload behind the writer's back, then committing.
    @Test func aCompletionRetriedAfterItSucceededIsAccepted() async throws {
        try await Blocking.run {
            let store = try Self.store() as! S3Store
            let part = (0..<S3Store.partSize).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let writer = try store.makeWriter("s/20260101T000000Z-0002/data/1.0.copy.gz")
            try part.withUnsafeBytes { try writer.write($0) }  // exactly one part: up already
            try Self.completeBehindTheWritersBack(store)
            try writer.commit()
            #expect(try store.get("s/20260101T000000Z-0002/data/1.0.copy.gz") == part)
            #expect(try store.list(prefix: "s/").map(\.isLeftover) == [false])
        }
    }

    /// Not every NoSuchUpload means success: when the object under the key is not the one
    /// these parts make, the commit fails.
    @Test func aCompletionThatFindsAnotherObjectFails() async throws {
        try await Blocking.run {
            let store = try Self.store() as! S3Store
            let part = [UInt8](repeating: 5, count: S3Store.partSize)
            let writer = try store.makeWriter("s/20260101T000000Z-0003/data/1.0.copy.gz")
            try part.withUnsafeBytes { try writer.write($0) }
            try Self.completeBehindTheWritersBack(store)
            try store.put("s/20260101T000000Z-0003/data/1.0.copy.gz", [1, 2, 3])
            #expect(throws: StoreError.self) { try writer.commit() }
        }
    }

    /// Completes the one upload in progress under `s/` with the parts S3 holds for it.
    static func completeBehindTheWritersBack(_ store: S3Store) throws {
        let leftover = try #require(store.list(prefix: "s/").first { $0.isLeftover })
        let marker = try #require(leftover.key.range(of: S3Store.uploadMarker))
        let key = String(leftover.key[..<marker.lowerBound]), upload = String(leftover.key[marker.upperBound...])
        let parts = try store.client.send("GET", key: key, query: [("uploadId", upload)])
        let etag = try #require(XMLText.first("ETag", in: String(decoding: parts.body, as: UTF8.self)))
        let body = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\(etag)</ETag></Part></CompleteMultipartUpload>"
        let done = try store.client.send("POST", key: key, query: [("uploadId", upload)],
                                         headers: ["Content-Type": "application/xml"], body: Data(body.utf8))
        #expect(done.status == 200)
    }

    /// Someone else's object whose name holds the upload marker is deleted as the object it
    /// is; the old delete sent it to a multipart upload that did not exist and reported success.
    @Test func anObjectNamedLikeAnUploadLeftoverIsReallyDeleted() async throws {
        try await Blocking.run {
            let store = try Self.store() as! S3Store
            let key = "s/20260101T000000Z-0004/data/x.upload-abc"
            let put = try store.client.send("PUT", key: key, body: Data([1, 2, 3]))
            #expect(put.status == 200)
            #expect(try store.list(prefix: "s/").map(\.key) == [key])
            try store.delete(key)
            #expect(try store.list(prefix: "s/").isEmpty)
        }
    }
}
