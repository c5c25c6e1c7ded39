import Foundation
import OperatorErrors
import PostgresClient
@testable import DatabaseCopy
import Testing

@Suite struct DumpConnectionTests {
    /// The service file holding the sslpassword is readable by this user alone; a DSN that
    /// names a service of its own cannot get another one, and is refused.
    @Test func theServiceFileIsPrivateAndAnOwnServiceIsRefused() throws {
        let source = try ConnectionString("host=db dbname=app user=app password=pw sslpassword=key-secret")
        let dump = try DumpConnection(source, environment: [:])
        defer { dump.remove() }
        #expect(!dump.conninfo.contains("key-secret") && !dump.conninfo.contains("pw"))
        #expect(dump.environment["PGPASSWORD"] == "pw")
        let file = try #require(dump.environment["PGSERVICEFILE"])
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("sslpassword=key-secret"))
        let mode = try FileManager.default.attributesOfItem(atPath: (file as NSString).deletingLastPathComponent)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        dump.remove()
        #expect(!FileManager.default.fileExists(atPath: file))

        let plain = try DumpConnection(try ConnectionString("host=db dbname=app"), environment: [:])
        #expect(plain.environment["PGSERVICEFILE"] == nil)
        let ownService = try ConnectionString("service=prod sslpassword=key-secret")
        let refused = #expect(throws: UsageError.self) { try DumpConnection(ownService, environment: [:]) }
        #expect(refused?.status == .badInput)
        #expect(throws: UsageError.self) { try DumpConnection(source, environment: ["PGSERVICE": "prod"]) }
    }
}
