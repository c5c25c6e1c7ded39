@testable import Applier
import ApplierFixtures
@testable import PgOutput
import PostgresClient
import PostgresTypes
import Testing

/// The apply rules with no server: messages in (captured ones, and ones built with PgOutput's
/// types), the actions out checked, and the passive's answers played back by hand.
@Suite struct ApplyStateMachineTests {
    /// Runs the machine's actions as a passive that answers `failure` to the next collect
    /// (nothing otherwise) and describes every table as `shape` says.
    struct Passive {
        var machine: ApplyStateMachine
        var shape: (Relation) -> TableShape = CapturedChanges.shape
        /// What was done, in order: "send N" (statements), "collect", "discard", "describe NAME", "rollback".
        var log: [String] = []
        var sent: [PipelineBatch] = []
        var outcomes: [BatchOutcome] = []
        var failure: ServerError?
        /// Batches sent and not yet collected, at most.
        var maxInFlight = 0
        private var inFlight = 0

        init(_ machine: ApplyStateMachine) { self.machine = machine }

        mutating func receive(_ messages: [PgOutputMessage]) throws(UnappliableChange) {
            for message in messages {
                try machine.receive(message)
                run()
            }
        }

        mutating func endGroup(ifOpenFor age: Duration = .zero) {
            machine.endGroup(ifOpenFor: age)
            run()
        }

        mutating func drain() {
            machine.drain()
            run()
        }

        mutating func run() {
            while let action = machine.nextAction() {
                switch action {
                case .send(let batch):
                    #expect(batch.statements.count <= Connection.pipelineLimit)
                    sent.append(batch)
                    inFlight += 1
                    maxInFlight = max(maxInFlight, inFlight)
                    log.append("send \(batch.statements.count)")
                case .collect(let receipt):
                    inFlight -= 1
                    outcomes.append(machine.collected(receipt, failure: failure))
                    failure = nil
                    log.append("collect")
                case .discard:
                    inFlight -= 1
                    log.append("discard")
                case .describe(let relation):
                    #expect(inFlight == 0, "the catalogue is read outside the pipeline")
                    machine.described(relation, shape: shape(relation))
                    log.append("describe \(relation.name)")
                case .rollBack:
                    log.append("rollback")
                }
            }
        }

        /// Every statement sent, in order, by its first words.
        var statements: [String] { sent.flatMap(\.statements).map { Self.kind($0.sql) } }

        static func kind(_ sql: String) -> String {
            for (marker, kind) in [("(INSERT INTO", "insert"), ("(UPDATE ONLY", "update"), ("(DELETE FROM", "delete"),
                                   ("INSERT INTO continuity.stream_progress", "progress")]
            where sql.contains(marker) {
                return kind + (sql.contains("unnest(") ? "s" : "")
            }
            return sql
        }
    }

    static let transaction = CapturedChanges.transaction
    static var end: LSN {
        guard case .commit(let commit) = transaction.last else { return .zero }
        return commit.endLSN
    }

    @Test func theCapturedTransactionIsOneGroupThatCommitsWithItsProgress() throws {
        var passive = Passive(ApplyStateMachine(slot: "s", appliedLSN: .zero))
        try passive.receive(Self.transaction)
        #expect(!passive.machine.isIdle)
        passive.endGroup()
        passive.drain()
        // Folded per key where it can be; the key change, the FULL rows' update and delete one by one, in order.
        #expect(passive.statements == ["BEGIN", "inserts", "update", "inserts", "update", "delete", "deletes",
                                       "progress", "COMMIT"])
        #expect(passive.log.filter { $0.hasPrefix("describe") } == ["describe items", "describe full_rows",
                                                                     "describe items", "describe full_rows"])
        #expect(passive.outcomes.allSatisfy { $0 == .applied })
        let commit = try #require(passive.sent.last)
        #expect(commit.receipt.commit == CommittedGroup(end: Self.end, changes: 9))
        #expect(commit.statements.dropLast().last?.parameters.prefix(2) == ["s", Self.end.description])
        #expect(passive.machine.appliedLSN == Self.end)
        #expect(passive.machine.isIdle)
    }

    /// After a restart the stream sends again what is in: skipped, nothing sent but the
    /// catalogue reads of its Relation messages.
    @Test func aTransactionAlreadyAppliedIsSkipped() throws {
        var passive = Passive(ApplyStateMachine(slot: "s", appliedLSN: Self.end))
        try passive.receive(Self.transaction)
        passive.endGroup()
        passive.drain()
        #expect(passive.sent.isEmpty)
        #expect(passive.machine.appliedLSN == Self.end)
        #expect(passive.machine.isIdle)
    }

    static let t = UInt32(42)
    static func relation(_ type: UInt32) -> PgOutputMessage {
        .relation(Relation(oid: t, namespace: "public", name: "t", replicaIdentity: UInt8(ascii: "d"),
                           columns: [.init(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
                                     .init(isKey: false, name: "v", typeOID: type, typeModifier: -1)]))
    }
    static func insert(_ id: Int, _ v: String = "x") -> PgOutputMessage {
        .insert(Insert(relation: t, new: TupleData(values: [.text(Array("\(id)".utf8)[...]), .text(Array(v.utf8)[...])])))
    }
    static func begin(_ lsn: UInt64) -> PgOutputMessage { .begin(Begin(finalLSN: LSN(rawValue: lsn), commitTime: 0, xid: 1)) }
    static func commit(_ lsn: UInt64) -> PgOutputMessage {
        .commit(Commit(flags: 0, commitLSN: LSN(rawValue: lsn), endLSN: LSN(rawValue: lsn + 1), commitTime: 0))
    }
    static func shape(_ relation: Relation) -> TableShape {
        TableShape(castTypes: relation.columns.map { [23: "integer", 700: "real", 701: "double precision"][$0.typeOID] ?? "text" },
                   equality: relation.columns.map { _ in "OPERATOR(pg_catalog.=)" })
    }

    /// A Relation mid-group sends what is folded under the old description, then reads the
    /// new shape: the rows after it are cast to the new type.
    @Test func aRelationMidGroupSendsTheBufferAndStartsAfresh() throws {
        var passive = Passive(ApplyStateMachine(slot: "s", appliedLSN: .zero))
        passive.shape = Self.shape
        try passive.receive([Self.begin(100), Self.relation(700), Self.insert(1, "0.5"), Self.relation(701),
                             Self.insert(2, "0.30000000000000004"), Self.commit(100)])
        passive.endGroup()
        passive.drain()
        // BEGIN; row 1 under the old description; row 2 (sent by the flush that ends the group), then the COMMIT.
        #expect(passive.log == ["send 1", "collect", "describe t", "send 1", "collect", "describe t",
                                "send 1", "send 2", "collect", "collect"])
        let inserts = passive.sent.flatMap(\.statements).filter { $0.sql.contains("unnest(") }
        #expect(inserts.count == 2)
        #expect(inserts[0].sql.contains("v.a2::real") && inserts[0].parameters == [#"{"1"}"#, #"{"0.5"}"#])
        #expect(inserts[1].sql.contains("v.a2::double precision") && inserts[1].parameters == [#"{"2"}"#, #"{"0.30000000000000004"}"#])
        #expect(passive.machine.appliedLSN == LSN(rawValue: 101))
    }

    @Test func aTruncateGoesAfterWhatIsFoldedAndNeedsItsRelation() throws {
        var passive = Passive(ApplyStateMachine(slot: "s", appliedLSN: .zero))
        let truncate = PgOutputMessage.truncate(Truncate(cascade: false, restartIdentity: true, relations: [Self.t]))
        try passive.receive([Self.begin(100), Self.relation(25), Self.insert(1), truncate, Self.insert(2), Self.commit(100)])
        passive.endGroup()
        #expect(passive.statements == ["BEGIN", "inserts", #"TRUNCATE ONLY "public"."t" RESTART IDENTITY"#, "inserts", "progress", "COMMIT"])

        var unknown = Passive(ApplyStateMachine(slot: "s", appliedLSN: .zero))
        let error = #expect(throws: UnappliableChange.self) {
            try unknown.receive([Self.begin(100), .truncate(Truncate(cascade: false, restartIdentity: false, relations: [7]))])
        }
        #expect(error?.reason == "a change arrived before its Relation message")
    }

    /// A unique violation in a set-based batch is a conflict to replay from the last commit
    /// received; in a batch of single changes it is the server's error as it is. A row count the
    /// guard refused is divergence, and the group it is in does not count as applied.
    @Test func whatTheAnswersMean() {
        var machine = ApplyStateMachine(slot: "s", appliedLSN: .zero)
        try? machine.receive(Self.commit(300))
        let unique = ServerError(sqlState: "23505", message: "duplicate key", statement: "WITH")
        let group = CommittedGroup(end: LSN(rawValue: 301), changes: 5)
        #expect(machine.collected(BatchReceipt(setBased: true, commit: nil), failure: unique)
                == .conflict(SetBasedConflict(through: LSN(rawValue: 301), cause: unique)))
        #expect(machine.collected(BatchReceipt(setBased: false, commit: nil), failure: unique) == .failed(unique))
        let guardError = ServerError(sqlState: "CN001", message: "1 rows to change, 0 found on the passive",
                                     detail: "public.t", statement: "WITH")
        let diverged = machine.collected(BatchReceipt(setBased: true, commit: group), failure: guardError)
        #expect(diverged == .diverged(UnappliableChange(table: "public.t", reason: "1 rows to change, 0 found on the passive; the passive has diverged")))
        #expect(machine.appliedLSN == .zero)
        #expect(machine.collected(BatchReceipt(setBased: true, commit: group), failure: nil) == .applied)
        #expect(machine.appliedLSN == LSN(rawValue: 301))
    }

    /// After a conflict, changes up to the LSN it names are applied one by one (none folded);
    /// past it, folding resumes.
    @Test func sequentialReplayThroughTheConflict() throws {
        var passive = Passive(ApplyStateMachine(slot: "s", appliedLSN: .zero, sequentialThrough: LSN(rawValue: 100)))
        try passive.receive([Self.begin(100), Self.relation(25), Self.insert(1), Self.insert(2), Self.commit(100)])
        passive.endGroup()
        passive.drain()
        try passive.receive([Self.begin(200), Self.insert(3), Self.insert(4), Self.commit(200)])
        passive.endGroup()
        passive.drain()
        #expect(passive.statements == ["BEGIN", "insert", "insert", "progress", "COMMIT", "BEGIN", "inserts", "progress", "COMMIT"])
        #expect(passive.sent.map(\.receipt.setBased) == [false, false, false, true, false])
    }

    /// Batches hold at most `pipelineLimit` statements, and one is in flight while the next is built.
    @Test func batchesAreBoundedWithOneInFlight() throws {
        var passive = Passive(ApplyStateMachine(slot: "s", appliedLSN: .zero, sequentialThrough: LSN(rawValue: 1000)))
        try passive.receive([Self.begin(100), Self.relation(25)] + (1...1000).map { Self.insert($0) } + [Self.commit(100)])
        passive.endGroup()
        passive.drain()
        // BEGIN (sent by the Relation), full batches of single inserts, the rest, the progress row and COMMIT.
        #expect(passive.sent.map(\.statements.count) == [1, 256, 256, 256, 232, 2])
        #expect(passive.maxInFlight == 2)  // one being answered while the next is sent
        #expect(passive.sent.last?.receipt.commit == CommittedGroup(end: LSN(rawValue: 101), changes: 1000))
        #expect(passive.machine.appliedLSN == LSN(rawValue: 101))
    }

    /// A group commits at a source commit once it holds `limits.changes` changes or has been
    /// open `limits.age`, never inside a source transaction; `endGroup(ifOpenFor:)` waits for its age.
    @Test func groupsEndBySizeAndByAge() throws {
        let clock = ManualClock()
        var limits = StreamApplier.GroupLimits()
        limits.changes = 3
        var passive = Passive(ApplyStateMachine(slot: "s", appliedLSN: .zero, limits: limits, now: clock.now))
        try passive.receive([Self.begin(100), Self.relation(25), Self.insert(1), Self.insert(2), Self.commit(100)])
        #expect(passive.sent.last?.receipt.commit == nil)
        try passive.receive([Self.begin(200), Self.insert(3)])
        passive.endGroup()  // inside a source transaction: waits
        #expect(passive.sent.last?.receipt.commit == nil)
        try passive.receive([Self.commit(200)])
        #expect(passive.sent.last?.receipt.commit == CommittedGroup(end: LSN(rawValue: 201), changes: 3))

        try passive.receive([Self.begin(300), Self.insert(4), Self.commit(300)])
        passive.endGroup(ifOpenFor: .milliseconds(50))
        #expect(passive.sent.last?.receipt.commit?.end == LSN(rawValue: 201))
        clock.advance(by: .milliseconds(50))
        passive.endGroup(ifOpenFor: .milliseconds(50))
        #expect(passive.sent.last?.receipt.commit?.end == LSN(rawValue: 301))

        try passive.receive([Self.begin(400), Self.insert(5), Self.commit(400)])
        #expect(passive.sent.last?.receipt.commit?.end == LSN(rawValue: 301))
        clock.advance(by: .milliseconds(250))
        try passive.receive([Self.begin(500), Self.insert(6), Self.commit(500)])
        #expect(passive.sent.last?.receipt.commit == CommittedGroup(end: LSN(rawValue: 501), changes: 2))
    }

    /// A keepalive position is recorded as applied only while nothing received is uncommitted,
    /// and only forwards.
    @Test func idleKeepalivePositions() throws {
        var passive = Passive(ApplyStateMachine(slot: "s", appliedLSN: LSN(rawValue: 50)))
        #expect(passive.machine.idlePosition(LSN(rawValue: 60)) == LSN(rawValue: 60))
        #expect(passive.machine.idlePosition(LSN(rawValue: 50)) == nil)
        try passive.receive([Self.begin(100), Self.relation(25), Self.insert(1)])
        #expect(passive.machine.idlePosition(LSN(rawValue: 90)) == nil)  // a source transaction half received
        try passive.receive([Self.commit(100)])
        #expect(passive.machine.idlePosition(LSN(rawValue: 90)) == nil)  // a group open
        passive.endGroup()
        #expect(passive.machine.idlePosition(LSN(rawValue: 200)) == nil)  // its COMMIT not answered yet
        passive.drain()
        #expect(passive.machine.appliedLSN == LSN(rawValue: 101))
        #expect(passive.machine.idlePosition(LSN(rawValue: 200)) == LSN(rawValue: 200))
        passive.machine.idleRecorded(at: LSN(rawValue: 200))
        #expect(passive.machine.appliedLSN == LSN(rawValue: 200))
    }

    /// A stop mid-group: the ended group's COMMIT is still collected, the open group's
    /// batches are dropped and its transaction rolled back.
    @Test func aStopMidGroupRollsBackOnlyWhatIsOpen() throws {
        var limits = StreamApplier.GroupLimits()
        limits.changes = 1
        var passive = Passive(ApplyStateMachine(slot: "s", appliedLSN: .zero, limits: limits))
        try passive.receive([Self.begin(100), Self.relation(25), Self.insert(1), Self.commit(100), Self.begin(200), Self.insert(2)])
        #expect(passive.machine.isInSourceTransaction)
        passive.log.removeAll()
        passive.machine.rollBack()
        passive.run()
        #expect(passive.log == ["collect", "rollback"])
        #expect(passive.machine.appliedLSN == LSN(rawValue: 101))
        #expect(passive.machine.isIdle && !passive.machine.isInSourceTransaction)

        var open = Passive(ApplyStateMachine(slot: "s", appliedLSN: .zero))
        try open.receive([Self.begin(100), Self.relation(25), Self.insert(1), Self.truncate()])
        open.log.removeAll()
        open.machine.rollBack()
        open.run()
        #expect(open.log == ["discard", "rollback"])
        #expect(open.machine.appliedLSN == .zero)
    }

    static func truncate() -> PgOutputMessage { .truncate(Truncate(cascade: false, restartIdentity: false, relations: [t])) }
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private var current = ContinuousClock.now
    var now: @Sendable () -> ContinuousClock.Instant { { self.current } }
    func advance(by duration: Duration) { current += duration }
}
