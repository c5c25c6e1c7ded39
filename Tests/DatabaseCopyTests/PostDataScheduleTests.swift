@testable import DatabaseCopy
import Testing

@Suite struct PostDataStepTests {
    static let weights = [RelationKey(schema: "public", name: "t"): Int64(100)]

    @Test func aPlainIndexIsSharedOnItsTable() {
        let step = PostDataStep.entry("--\n-- Name: t_v_idx; Type: INDEX\n--\n\nCREATE INDEX t_v_idx ON public.t USING btree (v);\n", weights: Self.weights)
        #expect(step.relation == RelationKey(schema: "public", name: "t"))
        #expect(step.access == .shared)
        #expect(step.weight == 100)
    }

    @Test func constraintsAndIndexesWithMoreStatementsAreExclusive() {
        let constraint = PostDataStep.entry("ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);", weights: Self.weights)
        #expect(constraint.relation == RelationKey(schema: "public", name: "t"))
        #expect(constraint.access == .exclusive)
        let clustered = PostDataStep.entry("CREATE INDEX t_v_idx ON public.t USING btree (v);\n\nALTER TABLE public.t CLUSTER ON t_v_idx;", weights: Self.weights)
        #expect(clustered.access == .exclusive)
    }

    @Test func quotedNamesAreUnquoted() {
        let step = PostDataStep.entry(#"CREATE UNIQUE INDEX "Odd ""name""" ON ONLY "My Schema"."Tab.le" USING btree ("Id");"#, weights: [:])
        #expect(step.relation == RelationKey(schema: "My Schema", name: "Tab.le"))
        #expect(step.access == .shared)
    }

    @Test func anUnknownStatementLocksEverything() {
        let step = PostDataStep.entry("SELECT something();", weights: [:])
        #expect(step.relation == nil)
        #expect(step.conflicts(with: .analyze(schema: "public", name: "u", weight: 0)))
    }
}

@Suite struct PostDataScheduleTests {
    static func index(_ table: String, weight: Int64 = 0) -> PostDataStep {
        .entry("CREATE INDEX i ON public.\(table) USING btree (v);", weights: [RelationKey(schema: "public", name: table): weight])
    }
    static func primaryKey(_ table: String, weight: Int64 = 0) -> PostDataStep {
        .entry("ALTER TABLE ONLY public.\(table)\n    ADD CONSTRAINT k PRIMARY KEY (id);", weights: [RelationKey(schema: "public", name: table): weight])
    }

    @Test func conflictingStepsOnOneTableWaitAndAnalyzeComesLast() throws {
        var schedule = PostDataSchedule([
            Self.primaryKey("t", weight: 10), Self.index("t", weight: 10), Self.index("t", weight: 10),
            .analyze(schema: "public", name: "t", weight: 10),
            Self.index("u", weight: 5), .analyze(schema: "public", name: "u", weight: 5),
        ])
        #expect(schedule.start() == 0)  // the primary key of the bigger table
        #expect(schedule.start() == 4)  // t's indexes wait for its primary key; u's does not
        #expect(schedule.start() == nil)  // ANALYZE u waits for u's index
        schedule.finish(0)
        #expect(schedule.start() == 1)
        #expect(schedule.start() == 2)  // two CREATE INDEX share the table
        #expect(schedule.start() == nil)
        schedule.finish(4)
        #expect(schedule.start() == 5)
        schedule.finish(1)
        #expect(schedule.start() == nil)  // ANALYZE t waits for the last index
        schedule.finish(2)
        #expect(schedule.start() == 3)
        #expect(schedule.isDrained)
    }

    @Test func biggerTablesStartFirst() {
        var schedule = PostDataSchedule([Self.index("small", weight: 1), Self.index("big", weight: 1000)])
        #expect(schedule.start() == 1)
        #expect(schedule.start() == 0)
    }

    @Test func aStepOnAnUnknownTableRunsAlone() {
        var schedule = PostDataSchedule([.entry("SELECT 1;", weights: [:]), Self.index("t")])
        #expect(schedule.start() == 0)
        #expect(schedule.start() == nil)
        schedule.finish(0)
        #expect(schedule.start() == 1)
    }

    @Test func theQueueHandsOutEveryStepOnceAndThenNil() async {
        let queue = PostDataQueue([Self.primaryKey("t"), Self.index("t"), .analyze(schema: "public", name: "t", weight: 0)])
        let seen = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    var mine: [String] = []
                    while let (ticket, step) = await queue.next() {
                        mine.append(step.sql)
                        await queue.finished(ticket)
                    }
                    return mine
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(seen.count == 3)
        #expect(Set(seen).count == 3)
    }
}
