import OperatorErrors

/// A cutover promoted the passive for this slot: it is the active now, and the stream into it
/// stops (exit 0). Nothing the stream received after the promotion is applied.
public struct PassivePromoted: OperatorError, Equatable {
    public let slot: String

    public init(slot: String) {
        self.slot = slot
    }

    public var status: ExitStatus { .failed }
    public var problem: String { "a cutover promoted the passive for slot \(slot): it is the active now, so the stream stops" }
    public var fix: String? { "nothing to do; to stream the other way, follow the reverse slot (`cutover --reverse`)" }
}
