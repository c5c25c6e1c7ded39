import TestSupport

/// How big a case is.
struct CaseSize: Sendable, Equatable {
    let name: String
    let tables: ClosedRange<Int>
    let columns: ClosedRange<Int>
    let initialRows: Int
    let transactions: Int
    let statementsPerTransaction: Int
    let kills: ClosedRange<Int>

    static let small = CaseSize(name: "small", tables: 2...4, columns: 2...5, initialRows: 6, transactions: 30,
                                statementsPerTransaction: 4, kills: 1...2)
    static let large = CaseSize(name: "large", tables: 4...8, columns: 3...10, initialRows: 60, transactions: 400,
                                statementsPerTransaction: 6, kills: 1...4)

    static func named(_ name: String) -> CaseSize? { [small, large].first { $0.name == name } }
}

/// Everything one seed stands for: settings, schema, rows, workload and when to kill the
/// stream. Pure: the same seed, size and exclusions give the same case.
struct DifferentialCase: Sendable {
    let seed: UInt64
    let size: CaseSize
    let excluded: Set<Feature>
    var sourceSettings: DatabaseSettings
    var streamTargetSettings: DatabaseSettings
    var restoreTargetSettings: DatabaseSettings
    var tables: [Table]
    var initial: [Transaction]
    var workload: [Transaction]
    var killDelays: [Int]  // milliseconds after each run starts streaming

    static func generate(seed: UInt64, size: CaseSize, excluding excluded: Set<Feature>) -> DifferentialCase {
        var settingsRNG = SplitMix64.stream(seed, 1)
        let useSettings = !excluded.contains(.settings)
        func settings() -> DatabaseSettings { useSettings ? .random(&settingsRNG) : DatabaseSettings(assignments: []) }
        let (source, streamTarget, restoreTarget) = (settings(), settings(), settings())

        var shapeRNG = SplitMix64.stream(seed, 2)
        let tables = (0..<shapeRNG.int(size.tables)).map { index in
            var rng = SplitMix64.stream(seed, 100 + UInt64(index))
            return TableGenerator(index: index, excluded: excluded, size: size).generate(&rng)
        }
        var workloadRNG = SplitMix64.stream(seed, 3)
        var generator = WorkloadGenerator(tables: tables, excluded: excluded)
        let initial = generator.initialRows(size.initialRows, &workloadRNG)
        let workload = (0..<size.transactions).map { _ in generator.transaction(&workloadRNG, maxStatements: size.statementsPerTransaction) }
        var killRNG = SplitMix64.stream(seed, 4)
        let kills = excluded.contains(.kill) ? 0 : killRNG.int(size.kills)
        return DifferentialCase(seed: seed, size: size, excluded: excluded, sourceSettings: source, streamTargetSettings: streamTarget,
                                restoreTargetSettings: restoreTarget, tables: tables, initial: initial, workload: workload,
                                killDelays: (0..<kills).map { _ in killRNG.int(0...1000) })
    }

    /// The same case with only some tables (and the statements on them) and a prefix of the
    /// workload: what shrinking tries.
    func keeping(tables kept: Set<Int>, transactions: Int? = nil) -> DifferentialCase {
        var smaller = self
        smaller.tables = tables.filter { kept.contains($0.index) }
        func filtered(_ transactions: [Transaction]) -> [Transaction] {
            transactions.compactMap { transaction in
                var copy = transaction
                copy.statements = transaction.statements.filter { $0.tables.isSubset(of: kept) }
                return copy.statements.contains { !$0.tables.isEmpty } ? copy : nil
            }
        }
        smaller.initial = filtered(initial)
        smaller.workload = Array(filtered(workload).prefix(transactions ?? workload.count))
        return smaller
    }

    var features: Set<Feature> {
        var used = tables.reduce(into: Set<Feature>()) { $0.formUnion($1.features) }
        if !(sourceSettings.assignments + streamTargetSettings.assignments + restoreTargetSettings.assignments).isEmpty { used.insert(.settings) }
        if !killDelays.isEmpty { used.insert(.kill) }
        for transaction in initial + workload { used.formUnion(transaction.features) }
        return used
    }

    var schemaSQL: String {
        tables.map { table in (["-- \(table.name): \(table.shape.rawValue)"] + table.ddl.map { $0 + ";" }).joined(separator: "\n") }
            .joined(separator: "\n")
    }

    /// How to run this case again, and the case itself as SQL a person can replay by hand.
    var reproduction: String {
        let exclusions = excluded.isEmpty ? "" : " CONTINUITY_DIFF_EXCLUDE=\(excluded.map(\.rawValue).sorted().joined(separator: ","))"
        return """
            -- continuity differential test: seed \(seed), size \(size.name), \(tables.count) tables, \(workload.count) transactions
            -- re-run just this case:
            --   CONTINUITY_DIFF_SEED=\(seed) CONTINUITY_DIFF_SIZE=\(size.name)\(exclusions) swift test --filter DifferentialIntegrationTests
            -- features: \(features.map(\.rawValue).sorted().joined(separator: ", "))
            -- database settings (ALTER DATABASE … SET): source: \(sourceSettings)
            --   stream target: \(streamTargetSettings)
            --   restore target: \(restoreTargetSettings)
            -- the stream (--init copy) is killed with SIGKILL \(killDelays.count) time(s), \(killDelays.map { "\($0) ms" }.joined(separator: ", ")) after each run starts streaming

            -- In the source database, in a session with these settings:
            \(DatabaseSettings.fixedSession);

            \(schemaSQL)

            -- The rows before the stream's copy (and the snapshot) starts:
            \(initial.map(\.sql).joined(separator: "\n"))

            -- The workload, while the stream runs:
            \(workload.map(\.sql).joined(separator: "\n"))
            """
    }
}
