import Foundation

/// What a run of the differential test does, from the environment:
/// - `CONTINUITY_DIFF_SEED=N`: just that case (several: `N,M`);
/// - `CONTINUITY_DIFF_CASES=N`: how many random cases (default 3), from
///   `CONTINUITY_DIFF_FIRST_SEED` on (default: a random one, printed);
/// - `CONTINUITY_DIFF_SIZE=small|large` (default small);
/// - `CONTINUITY_DIFF_EXCLUDE=feature,…`: features no case may use (see `Feature`);
/// - `CONTINUITY_DIFF_JOBS=N`: cases run at once (default 1 at the small size, which runs
///   beside the whole suite on two cores, and 2 at the large one);
/// - `CONTINUITY_DIFF_SHRINK=0`: report failures without shrinking them first.
struct Plan: Sendable {
    var seeds: [UInt64]
    var size: CaseSize
    var excluded: Set<Feature>
    var jobs: Int
    var shrink: Bool

    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Plan {
        func value(_ name: String) -> String? { environment["CONTINUITY_DIFF_" + name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let size = CaseSize.named(value("SIZE") ?? "small") else { throw BadPlan("CONTINUITY_DIFF_SIZE is small or large") }
        let seeds: [UInt64]
        if let list = value("SEED") {
            seeds = try list.split(separator: ",").map { word in
                guard let seed = UInt64(word.trimmingCharacters(in: .whitespaces)) else { throw BadPlan("CONTINUITY_DIFF_SEED: \(word) is not a seed") }
                return seed
            }
        } else {
            guard let cases = Int(value("CASES") ?? "3"), cases > 0 else { throw BadPlan("CONTINUITY_DIFF_CASES is a positive number") }
            let first = try value("FIRST_SEED").map { text -> UInt64 in
                guard let seed = UInt64(text) else { throw BadPlan("CONTINUITY_DIFF_FIRST_SEED: \(text) is not a seed") }
                return seed
            } ?? UInt64.random(in: 1...999_999_999)
            seeds = (0..<UInt64(cases)).map { first &+ $0 }
        }
        return Plan(seeds: seeds, size: size, excluded: try Feature.parse(value("EXCLUDE") ?? ""),
                    jobs: max(1, Int(value("JOBS") ?? "") ?? (size == .large ? 2 : 1)), shrink: value("SHRINK") != "0")
    }
}

struct BadPlan: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
