import Testing
import TestSupport

/// The generator is pure: a seed stands for exactly one case, which is what makes a printed
/// seed a reproduction.
@Suite struct GeneratorTests {
    @Test func splitMix64MatchesItsReferenceSequence() {
        // The first outputs for seed 1234567 of the reference implementation (Vigna's splitmix64.c).
        var rng = SplitMix64(seed: 1_234_567)
        #expect([rng.next(), rng.next(), rng.next()] == [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423])
    }

    @Test(arguments: [1, 42, 987_654_321] as [UInt64], [CaseSize.small, .large])
    func theSameSeedGivesTheSameCase(seed: UInt64, size: CaseSize) async {
        let (a, b, other) = await offThePool {
            (DifferentialCase.generate(seed: seed, size: size, excluding: []), DifferentialCase.generate(seed: seed, size: size, excluding: []),
             DifferentialCase.generate(seed: seed + 1, size: size, excluding: []))
        }
        #expect(a.reproduction == b.reproduction)
        #expect(a.killDelays == b.killDelays)
        #expect(other.reproduction != a.reproduction)
    }

    @Test func excludedFeaturesNeverAppear() async {
        let excluded: Set<Feature> = [.full, .partitionedLeaves, .boolean, .settings, .truncatePartition, .rollback, .kill]
        let cases = await offThePool { (1...40 as ClosedRange<UInt64>).map { DifferentialCase.generate(seed: $0, size: .small, excluding: excluded) } }
        for testCase in cases {
            let seed = testCase.seed
            #expect(testCase.features.isDisjoint(with: excluded), "seed \(seed): \(testCase.features.intersection(excluded))")
            #expect(testCase.sourceSettings.assignments.isEmpty)
            #expect(testCase.killDelays.isEmpty)
            #expect(!testCase.workload.contains { !$0.commits })
            #expect(!testCase.tables.flatMap(\.columns).contains { $0.type?.sql.hasPrefix("boolean") ?? false })
        }
    }

    /// Over many seeds every feature turns up somewhere: the generator does not quietly lose one.
    @Test func manySeedsCoverEveryFeature() async {
        var seen: Set<Feature> = [.snapshot, .stream]
        for features in await offThePool({ (1...150 as ClosedRange<UInt64>).map { DifferentialCase.generate(seed: $0, size: .small, excluding: []).features } }) {
            seen.formUnion(features)
        }
        #expect(Set(Feature.allCases).subtracting(seen) == [])
    }

    /// Shrinking keeps the other tables' statements exactly as they were.
    @Test func keepingSomeTablesLeavesTheirStatementsUnchanged() async {
        let testCase = await offThePool { DifferentialCase.generate(seed: 7, size: .large, excluding: []) }
        let kept: Set<Int> = [testCase.tables[0].index]
        let smaller = testCase.keeping(tables: kept, transactions: 10)
        #expect(smaller.tables.map(\.index) == [testCase.tables[0].index])
        #expect(smaller.workload.count <= 10)
        let original = testCase.workload.flatMap(\.statements).filter { $0.tables == kept }.map(\.sql)
        let remaining = smaller.workload.flatMap(\.statements).filter { !$0.tables.isEmpty }.map(\.sql)
        #expect(Array(original.prefix(remaining.count)) == remaining)
    }

    @Test func unknownFeatureNamesAreRefused() throws {
        #expect(throws: UnknownFeature.self) { try Feature.parse("full,no-such-thing") }
        #expect(try Feature.parse("full, boolean,truncate-partition") == [.full, .boolean, .truncatePartition])
    }
}
