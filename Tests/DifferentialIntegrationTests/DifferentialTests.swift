import Foundation
import Testing
import TestSupport

/// Random schemas, settings and workloads (see Generator/), streamed and snapshotted through
/// the built `continuity`: every table must arrive identical. A failure reports its seed, what
/// differed and a reproduction (shrunk where possible); see the README for sizes and knobs.
@Suite struct DifferentialTests {
    @Test func randomSchemasAndWorkloadsArriveIdentical() async throws {
        let plan = try Plan.fromEnvironment()
        let excluded = plan.excluded.isEmpty ? "" : " excluding \(plan.excluded.map(\.rawValue).sorted().joined(separator: ","))"
        print("differential test: \(plan.seeds.count) \(plan.size.name) case(s), seeds \(plan.seeds.map(String.init).joined(separator: ","))\(excluded)")
        let results = await withTaskGroup(of: (DifferentialCase, Outcome, Duration).self) { group in
            var results: [(DifferentialCase, Outcome, Duration)] = []
            var pending = plan.seeds.makeIterator()
            func start() {
                guard let seed = pending.next() else { return }
                group.addTask {
                    let testCase = await offThePool { DifferentialCase.generate(seed: seed, size: plan.size, excluding: plan.excluded) }
                    let started = ContinuousClock.now
                    let outcome: Outcome
                    do { outcome = try await CaseRunner.run(testCase) } catch { outcome = .broken(error) }
                    return (testCase, outcome, ContinuousClock.now - started)
                }
            }
            for _ in 0..<plan.jobs { start() }
            while let result = await group.next() {
                results.append(result)
                print("differential test: seed \(result.0.seed) \(result.1.failed ? "FAILED" : "passed") in \(result.2)")
                start()
            }
            return results
        }
        // Only the first failure is shrunk: each try is a full run, and one small case is what a person reads first.
        for (n, (testCase, outcome, _)) in results.filter(\.1.failed).sorted(by: { $0.0.seed < $1.0.seed }).enumerated() {
            let (shrunk, shrunkOutcome) = plan.shrink && n == 0 ? await Shrinker.shrink(testCase, outcome) : (testCase, outcome)
            Issue.record(Comment(rawValue: report(testCase, outcome, shrunk: shrunk, shrunkOutcome)))
        }
        print("differential test: \(results.filter { !$0.1.failed }.count) of \(results.count) case(s) passed")
    }

    /// The generator's SQL is valid for every type and shape: schemas and workloads alone, on
    /// the source, without continuity (a failure here is the generator's, not the tool's).
    @Test func generatedCasesRunOnTheSource() async throws {
        let plan = try Plan.fromEnvironment()
        let first = plan.seeds[0]
        let cases = await offThePool { (0..<6).map { DifferentialCase.generate(seed: first &+ 1000 &+ $0, size: $0 < 4 ? .small : .large, excluding: []) } }
        for testCase in cases {
            do {
                try await withTestDatabase(on: TestBed.active) { source in
                    try await withConnection(source) { sql in
                        try await sql.execute(DatabaseSettings.fixedSession)
                        try await sql.execute(testCase.schemaSQL)
                    }
                    try await CaseRunner.execute(testCase.initial + testCase.workload, on: source, waitingFor: nil)
                }
            } catch {
                Issue.record("seed \(testCase.seed), size \(testCase.size.name): \(error)")
            }
        }
    }

    /// The seed, what differed, and the (shrunk) case as SQL, also written to a file.
    func report(_ testCase: DifferentialCase, _ outcome: Outcome, shrunk: DifferentialCase, _ shrunkOutcome: Outcome) -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-diff-\(testCase.seed).sql")
        try? shrunk.reproduction.write(to: file, atomically: true, encoding: .utf8)
        let smaller = shrunk.tables.count < testCase.tables.count || shrunk.workload.count < testCase.workload.count
        return """
            differential case seed \(testCase.seed) failed (\(outcome.failedScenarios.map(\.rawValue).sorted().joined(separator: ", "))):
            \(outcome.problems.joined(separator: "\n"))
            \(smaller ? "shrunk to \(shrunk.tables.count) table(s) and \(shrunk.workload.count) transaction(s), which fails with:\n" + shrunkOutcome.problems.joined(separator: "\n") : "")
            reproduction (also in \(file.path)):
            \(shrunk.reproduction)
            """
    }
}
