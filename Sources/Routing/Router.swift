import OperatorErrors

/// What clients connect through, and what a cutover repoints: PgBouncer, nothing (the old
/// active fenced read-only), or the operator's own command. The cutover executor drives it
/// `preflight → pause → repoint → resume`, or `pause → rollBack`; the watchdog (a
/// separate process, rebuilding the router from its `RouterSpec`) may call `resume` or
/// `rollBack` at any moment, so every step is idempotent.
public protocol Router: Sendable {
    /// One line for reports: "pgbouncer database app via 127.0.0.1:6432".
    var description: String { get }
    /// Read-only checks, nothing changed: findings (empty = ready). pgbouncer: the console
    /// answers, the config line for the database exists under [databases] (following
    /// %include) and points at `from` or already at `to` (a re-run); else a finding naming
    /// file and line.
    func preflight() async -> [String]
    /// Holds new transactions, returns once in-flight ones are done. At `deadline` it gives
    /// up: undoes its pause (RESUME) and throws `PauseHeld(holders:)` naming who held it.
    func pause(deadline: ContinuousClock.Instant) async throws
    /// Points the router at `to` (pgbouncer: rewrite the line atomically — temp file in the
    /// same directory + fsync + rename, every other byte of the file unchanged, mode kept).
    /// Idempotent.
    func repoint() async throws
    /// Lets clients through, forward: to the new active (pgbouncer: `RELOAD` and `RESUME`,
    /// then a check that PgBouncer sends the database to `to`, a Failure if not). Idempotent:
    /// "not paused" is success.
    func resume() async throws
    /// Lets clients through to the OLD active after a rollback (pgbouncer: RESUME, config
    /// untouched; command: phase rollback). Idempotent.
    func rollBack() async throws
}

/// The pause did not complete by its deadline: some sessions kept transactions open. The
/// pause was undone before this was thrown, so clients run again.
public struct PauseHeld: OperatorError, Equatable {
    /// One line per session that held the pause, as much as could be learnt of it:
    /// `pid 4711 idle in transaction for 3.2 s, application_name 'billing', client 10.0.0.7:50122`.
    public let holders: [String]
    /// What was paused: "pgbouncer database app".
    public let what: String

    public init(what: String, holders: [String]) {
        self.what = what
        self.holders = holders
    }

    public var status: ExitStatus { .failed }
    public var problem: String {
        let named = holders.isEmpty ? "no holder could be named" : holders.joined(separator: "; ")
        return "the pause of \(what) did not complete in time, so it was undone; held by: \(named)"
    }
    public var fix: String? {
        "end or shorten those transactions (idle_in_transaction_session_timeout helps), or allow a longer pause"
    }
}
