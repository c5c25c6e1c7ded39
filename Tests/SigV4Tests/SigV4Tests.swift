import Foundation
@testable import SigV4
import Testing

/// Published vectors: the S3 documentation's worked examples ("Signature Calculations for the
/// Authorization Header", examplebucket, 2013-05-24) and get-vanilla from AWS's SigV4 test suite.
@Suite struct SigV4Tests {
    static let s3Docs = SigV4Signer(credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                                                secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                                    region: "us-east-1")
    static let may24 = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    func signature(_ headers: [String: String]) -> String? {
        headers["Authorization"]?.components(separatedBy: "Signature=").last
    }

    @Test func getObjectWithRange() {
        let request = SigV4Signer.Request(method: "GET", path: "/test.txt",
                                          headers: ["Host": "examplebucket.s3.amazonaws.com", "Range": "bytes=0-9"],
                                          payloadHash: Self.emptyHash)
        let headers = Self.s3Docs.sign(request, at: Self.may24)
        #expect(signature(headers) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(headers["Authorization"]?.contains("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,") == true)
    }

    @Test func putObject() {
        let body = SHA256Hex.of("Welcome to Amazon S3.")
        #expect(body == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let request = SigV4Signer.Request(method: "PUT", path: "/" + SigV4Signer.encode("test$file.text"),
                                          headers: ["Host": "examplebucket.s3.amazonaws.com",
                                                    "Date": "Fri, 24 May 2013 00:00:00 GMT",
                                                    "x-amz-storage-class": "REDUCED_REDUNDANCY"],
                                          payloadHash: body)
        #expect(signature(Self.s3Docs.sign(request, at: Self.may24)) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func getBucketLifecycle() {
        let request = SigV4Signer.Request(method: "GET", path: "/", query: [("lifecycle", "")],
                                          headers: ["Host": "examplebucket.s3.amazonaws.com"], payloadHash: Self.emptyHash)
        #expect(signature(Self.s3Docs.sign(request, at: Self.may24)) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func listObjects() {
        let request = SigV4Signer.Request(method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")],
                                          headers: ["Host": "examplebucket.s3.amazonaws.com"], payloadHash: Self.emptyHash)
        #expect(signature(Self.s3Docs.sign(request, at: Self.may24)) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func getVanillaFromTheTestSuite() {
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE",
                                                             secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                 region: "us-east-1", service: "service")
        // The suite signs only host and x-amz-date; its payload hash is that of the empty body.
        let request = SigV4Signer.Request(method: "GET", path: "/", headers: ["Host": "example.amazonaws.com"],
                                          payloadHash: Self.emptyHash)
        var canonical = signer.canonicalRequest(request)
        #expect(canonical.signedHeaders == "host")
        let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
        var withDate = request
        withDate.headers["X-Amz-Date"] = SigV4Signer.timestamp(date)
        canonical = signer.canonicalRequest(withDate)
        let toSign = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\(SHA256Hex.of(canonical.text))"
        let mac = SigV4Tests.hmacHex(toSign, key: signer.signingKey(day: "20150830"))
        #expect(mac == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func encodesAsRFC3986() {
        #expect(SigV4Signer.encode("a b/c~d$") == "a%20b%2Fc~d%24")
        #expect(SigV4Signer.encode("stack/2026/x.gz", keepingSlashes: true) == "stack/2026/x.gz")
    }

    @Test func readsCredentialsFromTheEnvironmentOnly() {
        #expect(AWSCredentials.fromEnvironment([:]) == nil)
        #expect(AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_SESSION_TOKEN": "t"])
            == AWSCredentials(accessKeyID: "a", secretAccessKey: "b", sessionToken: "t"))
    }

    static func hmacHex(_ text: String, key: [UInt8]) -> String {
        HMACHex.of(text, key: key)
    }
}
