import Foundation
import PostgresClient
import Testing
import TestSupport

@Suite struct ConnectTests {
    @Test func connectsAndReportsTheServerVersion() async throws {
        try await withConnection(TestBed.active) { connection in
            #expect(await connection.serverVersion >= 150000)
            let name = try await connection.query("SELECT current_setting('application_name')").scalar(String.self)
            #expect(name == "continuity")
        }
    }

    @Test func aClosedPortFailsFastWithAClearReason() async throws {
        let port = try closedPort()
        let started = ContinuousClock.now
        let failure = await #expect(throws: ConnectFailure.self) {
            try await Connection.connect(ConnectionString("host=127.0.0.1 port=\(port) dbname=x"))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(failure?.reason == .refused)
        #expect(failure?.status == .failed)
        #expect(failure?.problem == "cannot connect to 127.0.0.1:\(port)/x: connection refused")
    }

    @Test func aWrongPasswordIsNamed() async throws {
        let failure = await #expect(throws: ConnectFailure.self) {
            try await Connection.connect(TestBed.active.setting("password", to: "wrong"))
        }
        #expect(failure?.reason == .authentication)
        #expect(failure?.status == .badInput)
        #expect(failure.map { !$0.description.contains("wrong") } == true)
    }

    @Test func aMissingDatabaseIsNamed() async throws {
        let failure = await #expect(throws: ConnectFailure.self) {
            try await Connection.connect(TestBed.active.database("no_such_database_here"))
        }
        #expect(failure?.reason == .noSuchDatabase)
        #expect(failure?.problem.contains("\"no_such_database_here\" does not exist") == true)
    }

    @Test func anUnknownHostIsNamed() async throws {
        let failure = await #expect(throws: ConnectFailure.self) {
            try await Connection.connect(ConnectionString("host=no-such-host.invalid dbname=x connect_timeout=5"))
        }
        #expect(failure?.reason == .unknownHost)
    }

    /// A server that accepts TCP but never speaks: only the connect timeout ends the wait.
    @Test func aSilentServerHitsTheConnectTimeout() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let started = ContinuousClock.now
        let failure = await #expect(throws: ConnectFailure.self) {
            try await Connection.connect(ConnectionString("host=127.0.0.1 port=\(listener.port) dbname=x"),
                                         options: .init(connectTimeout: 2))
        }
        let elapsed = ContinuousClock.now - started
        #expect(failure?.reason == .timeout)
        #expect(elapsed >= .seconds(1.5) && elapsed < .seconds(6))
    }

    /// Blocking libpq calls run on each connection's own thread: eight one-second sleeps
    /// finish together even though the cooperative pool has only a couple of threads.
    @Test func blockingCallsDoNotHoldTheCooperativePool() async throws {
        let dsn = try TestBed.active
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { try await withConnection(dsn) { _ = try await $0.execute("SELECT pg_sleep(1)") } }
            }
            try await group.waitForAll()
        }
        #expect(ContinuousClock.now - started < .seconds(4))
    }
}

/// A port nothing listens on: bind, read the port, close.
func closedPort() throws -> Int {
    let listener = try SilentListener()
    let port = listener.port
    listener.close()
    return port
}

/// A TCP listener on 127.0.0.1 that never accepts: the kernel completes handshakes, nobody answers.
final class SilentListener: @unchecked Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && listen(descriptor, 16) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
