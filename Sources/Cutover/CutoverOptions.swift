import PostgresClient
import PostgresTypes
import Routing

/// What `continuity cutover` is given.
public struct CutoverOptions: Sendable {
    /// The active, whose clients are moved, and the passive, promoted.
    public var source: ConnectionString
    public var target: ConnectionString
    public var router: RouterSpec
    /// The slot whose stream feeds the passive, and its publication.
    public var slot: String
    public var publication: String
    public var maxPause: Duration = .seconds(2)
    public var maxLag: Duration = .seconds(1)
    /// `--reverse`: the slot on the new active a stream back into the old one follows.
    public var reverseSlot: String?
    /// The local journal file (the passive holds a copy).
    public var journalPath: String

    public init(source: ConnectionString, target: ConnectionString, router: RouterSpec, slot: String, publication: String,
                journalPath: String) {
        self.source = source
        self.target = target
        self.router = router
        self.slot = slot
        self.publication = publication
        self.journalPath = journalPath
    }

    /// The default journal file: in the working directory, one per slot.
    public static func defaultJournalPath(slot: String) -> String { "continuity-cutover-\(slot).journal" }

    func makeRouter() throws -> any Router {
        try router.makeRouter(from: RouterNode(source), to: RouterNode(target))
    }
}

/// Follows the slot into the passive until cancelled or until the passive is promoted, when no
/// `continuity stream` follows it: the command line passes the stream's runner in (cutover does
/// not import it).
public typealias Follow = @Sendable () async throws -> Void
