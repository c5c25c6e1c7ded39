/// The states of a cutover, in the order a successful one passes them, then the two endings of
/// a failed one. The journal records each before the work that reaches it starts, so a record
/// says "everything before this state is done, this state's work may be under way".
public enum CutoverState: String, Codable, CaseIterable, Sendable {
    /// Nothing changed yet: the lock, then the checks.
    case preflight
    /// The router's pause (PgBouncer `PAUSE`) and the cutover LSN read after it.
    case fenced
    /// The passive applying up to the cutover LSN.
    case caughtUp = "caught-up"
    /// Every sequence's value copied from the fenced active.
    case sequencesSynced = "sequences-synced"
    /// The old active fenced read-only with its sessions ended, the passive writable. From here
    /// on the new active is the truth.
    case promoted
    /// The router rewritten and reloaded, then `RESUME`.
    case repointed
    /// Done: clients resumed on the new active.
    case resumed
    /// Rolling back: the old active unfenced, then `RESUME`.
    case rolledBack = "rolled-back"
    /// Ended without completing, clients resumed; the record's reason says where and why.
    case failed

    /// What must happen to a cutover whose journal ends in this state, if its process is gone:
    /// one rule for the machine's own failures, the dead-man's switch and `cutover --recover`.
    public var recovery: CutoverRecovery {
        switch self {
        case .preflight, .resumed, .failed:
            return .nothing
        case .fenced, .caughtUp, .sequencesSynced, .rolledBack:
            return .rollBack
        case .promoted, .repointed:
            // The passive may already take writes: going back could leave two writable nodes.
            return .rollForward
        }
    }
}

/// What settles a half-done cutover.
public enum CutoverRecovery: Equatable, Sendable {
    /// Nothing to settle: it never paused clients, or it ended with them resumed.
    case nothing
    /// The old active stays the active: unfence it, `RESUME`.
    case rollBack
    /// The new active is the active: finish promoting it (idempotent), repoint the router,
    /// `RELOAD`, `RESUME`.
    case rollForward
}
