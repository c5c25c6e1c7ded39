import Foundation

/// Whether a scheduled snapshot may run now. Pure: one read's facts in, a verdict out
/// (`SnapshotGateFacts` reads them).
///
/// A scheduled snapshot becomes the stack's newest, the one `hook post-create` restores. In
/// Kubernetes the agent starts beside postStart's post-create, and a slot missed while the pod
/// was down fires at once: a snapshot of the new, still empty database (or of a half-restored
/// one) would become the newest, and the next post-create would restore it, the data lost. So
/// a slot is skipped while a restore into the source runs (restore's advisory lock is held),
/// and while the source holds no table although the store has snapshots of the stack. An
/// empty source with an empty store is a stack being set up: its first snapshot may be empty.
/// Only the schedule is gated: a snapshot asked for over HTTP is the operator's call.
public enum SnapshotGate {
    public struct SourceFacts: Equatable, Sendable {
        /// Tables (plain or partitioned) in user schemas.
        public var userTables: Int
        /// Another session holds (or waits for) restore's advisory lock on the database.
        public var restoreInProgress: Bool

        public init(userTables: Int, restoreInProgress: Bool) {
            self.userTables = userTables
            self.restoreInProgress = restoreInProgress
        }
    }

    public enum Verdict: Equatable, Sendable {
        case run
        /// Skipped, and why (for the log); `failed` when the slot counts as a failed snapshot.
        case skip(String, failed: Bool)
    }

    /// `source`: the facts, or why they could not be read. `storeHasSnapshots`: nil when the
    /// store could not be listed.
    public static func verdict(source: Result<SourceFacts, SourceUnreadable>, storeHasSnapshots: Bool?) -> Verdict {
        let facts: SourceFacts
        switch source {
        case .failure(let unreadable):
            // A snapshot could not read it either; counted, so an unreachable source still alerts.
            return .skip("the source database cannot be read (\(unreadable.problem))", failed: true)
        case .success(let read):
            facts = read
        }
        if facts.restoreInProgress {
            return .skip("a restore into the source database is in progress", failed: false)
        }
        guard facts.userTables == 0 else { return .run }
        switch storeHasSnapshots {
        case false?: return .run
        case true?: return .skip("the source database holds no table, yet the store has snapshots of the stack (is it being recreated?)", failed: false)
        case nil: return .skip("the source database holds no table and the store cannot be listed", failed: true)
        }
    }
}

/// Why the source's facts could not be read (a connection failure, a missing `source:`).
public struct SourceUnreadable: Error, Equatable, Sendable {
    public let problem: String
    public init(_ problem: String) { self.problem = problem }
}
