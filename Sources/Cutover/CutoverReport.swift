import Foundation

/// What `continuity cutover` prints (text, or JSON with --json).
public struct CutoverReport: Codable, Sendable {
    public struct State: Codable, Sendable {
        public let state: String
        public let startedAt: String
        /// Until the next record (nil for the last).
        public let milliseconds: Int64?
    }

    /// `done`, `refused`, `rolled-back` or `rolled-forward`.
    public let ending: String
    public let states: [State]
    public let router: String
    /// The stream's replay lag at the fence, when a `continuity stream` was following the slot.
    public let lagAtFenceSeconds: Double?
    public let cutoverLSN: String?
    public let sequencesSynced: Int?
    /// Between sending PAUSE and RESUME's answer, as measured here: what clients saw.
    public let pauseMilliseconds: Double?
    public let problems: [String]
    /// What was undone, for a rollback.
    public let rolledBack: [String]
    public let reverseSlot: String?
    public let reverseStartLSN: String?
    /// `--router none`: where clients must connect now.
    public let clientsGoTo: String?
    /// The forward slot on the old active, dropped after a completed cutover.
    public let forwardSlotDropped: Bool
    public let journal: String

    public var text: String {
        var lines = ["cutover \(ending) via \(router)"]
        for state in states {
            lines.append("  \(state.startedAt)  \(state.state)" + (state.milliseconds.map { "  \($0) ms" } ?? ""))
        }
        if let cutoverLSN { lines.append("  cutover LSN \(cutoverLSN)") }
        if let lagAtFenceSeconds { lines.append(String(format: "  lag at the fence %.3f s", lagAtFenceSeconds)) }
        if let sequencesSynced { lines.append("  sequences synced \(sequencesSynced)") }
        if let pauseMilliseconds { lines.append(String(format: "  pause %.1f ms (PAUSE sent to RESUME answered)", pauseMilliseconds)) }
        if let reverseSlot { lines.append("  reverse slot \(reverseSlot) from \(reverseStartLSN ?? "?")") }
        if let clientsGoTo { lines.append("  clients must now connect to \(clientsGoTo)") }
        if forwardSlotDropped { lines.append("  the forward slot on the old active was dropped") }
        for undone in rolledBack { lines.append("  rolled back: \(undone)") }
        for problem in problems { lines.append("  problem: \(problem)") }
        lines.append("  journal \(journal)")
        return lines.joined(separator: "\n")
    }
}
