/// The seeded tests' only source of randomness (the differential generator's, the cutover kill
/// test's): SplitMix64 (Steele, Lea and Flood, 2014). Tiny,
/// and the same sequence for a seed on every platform and Swift version, which the standard
/// library's generators and `random(in:using:)` do not promise. Helpers below use only `next`.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent stream for one part of a case (a table, the workload), so that leaving
    /// another part out while shrinking leaves this one exactly as it was.
    public static func stream(_ seed: UInt64, _ label: UInt64) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (label &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }

    /// 0 ..< n (n > 0; the slight modulo bias does not matter here).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

    public mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.upperBound - range.lowerBound + 1) }

    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    public mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }

    public mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}
