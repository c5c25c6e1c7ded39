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
        // A refusal ends the attempt at once; only a timeout (600 s here) would take long. The
        // bound is loose: under the full parallel suite on two cores a prompt failure was seen
        // to take 6.5 s of wall time.
        let failure = await #expect(throws: ConnectFailure.self) {
            try await Connection.connect(ConnectionString("host=127.0.0.1 port=\(port) dbname=x"), options: .init(connectTimeout: 600))
        }
        #expect(ContinuousClock.now - started < .seconds(120))
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
        // Not before the timeout; and it does end (the bound is loose for a loaded machine).
        #expect(elapsed >= .seconds(1.5) && elapsed < .seconds(30))
    }

    /// Blocking libpq calls run on each connection's own thread: eight sessions can all be
    /// blocked inside libpq at once, which the cooperative pool (as many threads as cores)
    /// could never allow. Counted on the server, so load on the machine cannot blur it; the
    /// lock_timeout turns a regression into a failure instead of a hang.
    @Test func blockingCallsDoNotHoldTheCooperativePool() async throws {
        let dsn = try TestBed.active
        let key = Int.random(in: 1...1_000_000_000)
        try await withConnection(dsn) { holder in
            try await holder.execute("SELECT pg_advisory_lock(\(key))")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await withConnection(dsn) { waiter in
                            try await waiter.execute("SET lock_timeout = '15s'")
                            _ = try await waiter.execute("SELECT pg_advisory_lock_shared(\(key))")
                        }
                    }
                }
                try await waitUntil("eight sessions blocked on the lock at once", timeout: .seconds(30)) {
                    try await holder.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1::oid AND NOT granted",
                                           [String(key)]).scalar(Int.self) == 8
                }
                try await holder.execute("SELECT pg_advisory_unlock(\(key))")
                try await group.waitForAll()
            }
        }
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
