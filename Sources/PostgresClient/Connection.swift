import CLibPQ
import Foundation
import Synchronization

/// One PostgreSQL connection, owned by one actor whose executor is a dedicated thread.
///
/// Every libpq call for this connection happens on that thread, so blocking calls never sit
/// on the cooperative pool, and the connection is never used from two threads at once.
/// Queries, COPY and replication live in extensions in their own files.
public actor Connection {
    public struct Options: Sendable {
        /// Seconds; used unless the DSN sets `connect_timeout` itself.
        public var connectTimeout: Int = 10
        /// Open a `replication=database` walsender connection (for slots and streaming).
        public var replication = false
        /// Run the session with `SessionSettings.fixed`. Off only for PgBouncer's admin
        /// console, which runs no SQL and refuses startup parameters it does not know.
        public var fixesSettings = true

        public init(connectTimeout: Int = 10, replication: Bool = false, fixesSettings: Bool = true) {
            self.connectTimeout = connectTimeout
            self.replication = replication
            self.fixesSettings = fixesSettings
        }
    }

    public nonisolated let dsn: ConnectionString
    private let executor: ThreadExecutor
    private let canceller = Canceller()
    /// Only touched on the actor's thread, and by deinit, which has the last reference;
    /// `nonisolated(unsafe)` only because Swift cannot see that deinit is exclusive.
    nonisolated(unsafe) var handle: OpaquePointer?
    /// Statements `sendPipeline` has prepared on this session: SQL text → statement name.
    var preparedStatements: [String: String] = [:]
    /// Prepares sent in a pipeline, not yet confirmed by the server.
    var pendingPrepares: [String: String] = [:]
    var preparedCount = 0
    /// Pipeline batches sent and not yet collected, oldest first: the replies each awaits.
    var outstandingPipelines: [[PipelineReply]] = []

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private init(dsn: ConnectionString) {
        self.dsn = dsn
        self.executor = ThreadExecutor(name: "pg \(dsn.shortDescription)")
    }

    /// Opens a connection; throws `ConnectFailure` with a classified reason.
    public static func connect(_ dsn: ConnectionString, options: Options = Options()) async throws -> Connection {
        let connection = Connection(dsn: dsn)
        do {
            try await connection.open(options)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Connects, runs `body`, and closes the connection whether `body` succeeded or not.
    @discardableResult
    public static func with<T>(_ dsn: ConnectionString, options: Options = Options(),
                               _ body: (Connection) async throws -> T) async throws -> T {
        let connection = try await connect(dsn, options: options)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    private func open(_ options: Options) throws {
        // Earlier keywords are defaults: the expanded DSN (dbname, expand_dbname=1) overrides them.
        var keywords = ["fallback_application_name", "connect_timeout"]
        var values = ["continuity", String(options.connectTimeout)]
        if options.replication {
            keywords.append("replication")
            values.append("database")
        }
        keywords.append("dbname")
        values.append(dsn.conninfo)
        if options.fixesSettings {
            // After dbname, so these override the DSN's; `options` keeps the DSN's own first.
            keywords += ["client_encoding", "options"]
            values += ["UTF8", SessionSettings.startupOptions(after: dsn["options"] ?? ProcessInfo.processInfo.environment["PGOPTIONS"])]
        }
        let conn = withCStringArray(keywords) { keys in
            withCStringArray(values) { vals in PQconnectdbParams(keys, vals, 1) }
        }
        handle = conn
        guard let conn, PQstatus(conn) == CONNECTION_OK else {
            let raw = conn.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            let timeout = Int(dsn["connect_timeout"] ?? "") ?? options.connectTimeout
            throw ConnectFailure(target: dsn.shortDescription, libpqMessage: Self.essence(of: raw),
                                 reason: ConnectFailure.classify(raw), timeoutSeconds: timeout)
        }
        // Notices ("relation does not exist, skipping") would otherwise go straight to stderr.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        canceller.set(PQgetCancel(conn))
        if options.fixesSettings { try confirmSettings() }
        // Every replication connection reads the source's data as text: refuse what cannot be converted.
        if options.replication { try requireConvertibleEncoding() }
    }

    /// Reads the fixed settings back (one round trip) and refuses the session if any differs.
    private func confirmSettings() throws {
        let shown = try query(SessionSettings.readBack).rows.first?.values ?? []
        if let differing = SessionSettings.differing(shown).first {
            let index = SessionSettings.fixed.firstIndex(of: differing) ?? 0
            throw SessionSettingRefused(target: dsn.shortDescription, name: differing.name,
                                        shown: (index < shown.count ? shown[index] : nil) ?? "", wanted: differing.value)
        }
    }

    /// The database's encoding, as the server reported it at login.
    public var serverEncoding: String? {
        handle.flatMap { PQparameterStatus($0, "server_encoding") }.map { String(cString: $0) }
    }

    /// Throws `UnconvertibleEncoding` (exit 3) for a SQL_ASCII database, whose text has no
    /// known encoding to convert to UTF-8 from.
    public func requireConvertibleEncoding() throws {
        if serverEncoding == "SQL_ASCII" { throw UnconvertibleEncoding(target: dsn.shortDescription) }
    }

    /// libpq prefixes each attempt with `connection to server at "h" (addr), port p failed: `
    /// and may add a second, indented line of advice. Keep the server's reason from the last attempt.
    static func essence(of message: String) -> String {
        let lines = message.split(whereSeparator: \.isNewline).map(String.init)
        let line = lines.last(where: { $0.contains("failed: ") }) ?? lines.first ?? message
        let reason = line.range(of: "failed: ").map { String(line[$0.upperBound...]) } ?? line
        return reason.replacingOccurrences(of: "FATAL:  ", with: "").trimmingCharacters(in: .whitespaces)
    }

    /// Closes the connection and stops its thread. Safe to call twice.
    public func close() {
        canceller.set(nil)
        if let handle { PQfinish(handle) }
        handle = nil
        executor.shutdown()
    }

    deinit {
        if let handle { PQfinish(handle) }
        executor.shutdown()
    }

    /// Runs `body` on this connection's thread, where it may block: a COPY feeding a
    /// compressor and a store writer runs whole here, its state never leaving the thread.
    public func perform<T: Sendable>(_ body: @Sendable (isolated Connection) throws -> T) throws -> T {
        try body(self)
    }

    /// Asks the server to cancel whatever this connection is running. Callable from anywhere;
    /// the running call then fails with SQLSTATE 57014.
    public nonisolated func cancel() {
        canceller.cancel()
    }

    /// The open libpq handle, or an error saying the connection is gone.
    func requireHandle() throws -> OpaquePointer {
        guard let handle else { throw ConnectionLost(target: dsn.shortDescription, reason: "connection closed") }
        return handle
    }

    /// The error a failed result stands for. When the session is gone as well (its backend
    /// was ended, the server is shutting down) that is what matters to the caller: the
    /// connection is unusable, and a retry on a new one may well succeed.
    func failure(of result: OpaquePointer?, on conn: OpaquePointer, statement: String) -> any Error {
        let server = ServerError(result: result, connection: conn, statement: statement)
        guard PQstatus(conn) == CONNECTION_BAD else { return server }
        return ConnectionLost(target: dsn.shortDescription, reason: "\(server.message) (SQLSTATE \(server.sqlState))")
    }

    func connectionLost() -> ConnectionLost {
        let reason = handle.map { String(cString: PQerrorMessage($0)).trimmingTrailingNewlines() } ?? "connection closed"
        return ConnectionLost(target: dsn.shortDescription, reason: reason.isEmpty ? "unknown reason" : reason)
    }

    /// The server's version as `server_version_num` (150018 for 15.18).
    public var serverVersion: Int {
        handle.map { Int(PQserverVersion($0)) } ?? 0
    }
}

/// PQcancel is documented as safe to call from another thread; PQgetCancel's object is
/// guarded here so `cancel()` can race with `close()`.
private final class Canceller: Sendable {
    private let object = Mutex<CancelObject?>(nil)

    func set(_ pointer: OpaquePointer?) {
        object.withLock { current in
            if let old = current?.pointer { PQfreeCancel(old) }
            current = pointer.map(CancelObject.init)
        }
    }

    func cancel() {
        object.withLock { current in
            guard let pointer = current?.pointer else { return }
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(pointer, &buffer, Int32(buffer.count))
        }
    }

    deinit { set(nil) }
}

private struct CancelObject: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Calls `body` with a NULL-terminated C array of C strings that live for the call.
func withCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> R) rethrows -> R {
    let copies = strings.map { $0.map { UnsafePointer(strdup($0)!) } }
    defer { copies.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
    return try (copies + [nil]).withUnsafeBufferPointer { try body($0.baseAddress!) }
}
