/// Makes a failing case smaller while it still fails: first only the tables that differed,
/// then one table alone, then shorter workloads. Every step is a full run, so the number of
/// tries is bounded; timing-dependent failures may not shrink.
enum Shrinker {
    static func shrink(_ failing: DifferentialCase, _ outcome: Outcome, tries: Int = 8) async -> (DifferentialCase, Outcome) {
        var best = (failing, outcome)
        var left = tries
        func attempt(_ candidate: DifferentialCase) async -> Bool {
            guard left > 0 else { return false }
            left -= 1
            guard let result = try? await CaseRunner.run(candidate), result.failed else { return false }
            best = (candidate, result)
            return true
        }
        let all = Set(failing.tables.map(\.index))
        let differing = outcome.differingTables.intersection(all)
        if !differing.isEmpty, differing.count < all.count {
            _ = await attempt(best.0.keeping(tables: differing))
        }
        // Fewer tables, then a shorter workload, and again: a shorter workload can leave one table enough.
        for _ in 0..<2 {
            let kept = Set(best.0.tables.map(\.index))
            if kept.count > 1 {
                for index in (best.1.differingTables.isEmpty ? kept : best.1.differingTables.intersection(kept)).sorted() {
                    if await attempt(best.0.keeping(tables: [index])) { break }
                }
            }
            while best.0.workload.count > 1 {
                let tables = Set(best.0.tables.map(\.index))
                guard await attempt(best.0.keeping(tables: tables, transactions: best.0.workload.count / 2)) else { break }
            }
        }
        return best
    }
}
