import DatabaseCopy
import Testing

@Suite struct PartPlanTests {
    @Test func aSmallTableIsOnePartWithoutCondition() {
        let plan = PartPlan(blocks: 100, blocksPerPart: 8192, jobs: 2)
        #expect(plan.ranges.count == 1)
        #expect(plan.condition(0) == nil)
    }

    @Test func partsAreEqualAndAMultipleOfJobs() {
        // 6 parts and a sliver at 8192 blocks each; 8 equal ones instead.
        let plan = PartPlan(blocks: 49_181, blocksPerPart: 8192, jobs: 2)
        #expect(plan.ranges.count == 8)
        #expect(plan.ranges.map(\.first) == [0, 6147, 12295, 18442, 24590, 30738, 36885, 43033])
        #expect(plan.ranges.last?.end == nil)
        #expect(plan.condition(1) == "ctid >= '(6147,0)'::tid AND ctid < '(12295,0)'::tid")
        #expect(plan.condition(7) == "ctid >= '(43033,0)'::tid")
    }

    @Test func rangesCoverEveryBlockOnce() {
        for (blocks, perPart, jobs) in [(8193, 8192, 2), (100_000, 1000, 3), (64, 64, 4), (65, 64, 4), (10, 8, 8), (1, 1, 1)] as [(Int64, Int64, Int)] {
            let plan = PartPlan(blocks: blocks, blocksPerPart: perPart, jobs: jobs)
            #expect(plan.ranges.first?.first == 0)
            for (range, next) in zip(plan.ranges, plan.ranges.dropFirst()) {
                #expect(range.end == next.first)
                #expect(range.end! - range.first <= perPart)
                #expect(range.end! > range.first)
            }
            #expect(plan.ranges.count == 1 || plan.ranges.count % jobs == 0)
            #expect(plan.ranges.last!.first < max(blocks, 1))
        }
    }
}
