/// What one run of a case found: nothing, when the targets hold exactly what the source holds.
struct Outcome: Sendable {
    var problems: [String] = []
    /// Tables (by index) whose rows differ somewhere: what shrinking keeps.
    var differingTables: Set<Int> = []
    /// Which scenarios failed (snapshot, stream).
    var failedScenarios: Set<Feature> = []

    var failed: Bool { !problems.isEmpty }

    /// A case that could not run at all (the test bed, or a generator bug: see the message).
    static func broken(_ error: any Error) -> Outcome {
        Outcome(problems: ["[harness] the case could not run: \(error)"])
    }

    mutating func add(_ scenario: Feature, _ problem: String, tables: Set<Int> = []) {
        problems.append("[\(scenario.rawValue)] \(problem)")
        failedScenarios.insert(scenario)
        differingTables.formUnion(tables)
    }
}

/// The workload itself failed on the source: a fault of the generator, not of continuity.
struct WorkloadFailed: Error, CustomStringConvertible {
    let sql: String
    let error: any Error
    var description: String { "the generated workload failed on the source (a generator bug): \(error)\nin:\n\(sql)" }
}
