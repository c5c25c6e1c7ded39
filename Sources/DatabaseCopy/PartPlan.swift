/// How a table is cut into parts: by ranges of heap blocks, read with TID range scans, so one
/// large table keeps several jobs busy while every part is still one sequential read.
public struct PartPlan: Equatable, Sendable {
    /// Half-open block ranges; the last is open-ended (nil upper bound), so rows in blocks
    /// added after the size was read are never missed.
    public let ranges: [(first: Int64, end: Int64?)]

    public static func == (lhs: PartPlan, rhs: PartPlan) -> Bool {
        lhs.ranges.map(\.first) == rhs.ranges.map(\.first) && lhs.ranges.map(\.end) == rhs.ranges.map(\.end)
    }

    /// `blocks`: the table's size in blocks now; `blocksPerPart`: the largest part wanted.
    /// A table that needs several parts gets a multiple of `jobs` parts of equal size. Cut into
    /// full parts and a remainder, the benchmark's text table had three of 63 MB and one of
    /// 28 MB: one of two restore sessions loaded two full ones and ran 0.4 s longer than the
    /// other. Four equal parts end together.
    public init(blocks: Int64, blocksPerPart: Int64, jobs: Int) {
        var count = max(1, (blocks + blocksPerPart - 1) / blocksPerPart)
        let jobs = Int64(max(1, jobs))
        if count > 1 { count = min((count + jobs - 1) / jobs * jobs, blocks) }
        let first = { (index: Int64) in blocks * index / count }
        ranges = (0..<count).map { index in
            (first(index), index == count - 1 ? nil : first(index + 1))
        }
    }

    /// The WHERE clause selecting a range's rows, or nil when one part covers the whole table.
    public func condition(_ index: Int) -> String? {
        guard ranges.count > 1 else { return nil }
        let range = ranges[index]
        let lower = "ctid >= '(\(range.first),0)'::tid"
        guard let end = range.end else { return lower }
        return "\(lower) AND ctid < '(\(end),0)'::tid"
    }
}

/// One part of one table to copy: its index, the block-range condition, and its size estimate.
public struct TablePart: Sendable {
    public let table: SourceInventory.Table
    public let index: Int
    public let condition: String?
    /// The part's size estimate in heap blocks, for progress.
    public let blocks: Int64

    /// Every table cut into parts, in the tables' order (largest first).
    public static func parts(of tables: [SourceInventory.Table], blocksPerPart: Int64, jobs: Int) -> [TablePart] {
        tables.flatMap { table in
            // An extension's configuration table is small, and its filter is its own WHERE clause.
            let plan = PartPlan(blocks: table.blocks, blocksPerPart: table.extensionFilter == nil ? blocksPerPart : max(table.blocks, 1), jobs: jobs)
            return plan.ranges.enumerated().map { index, range in
                TablePart(table: table, index: index, condition: plan.condition(index),
                          blocks: max(1, (range.end ?? max(table.blocks, range.first + 1)) - range.first))
            }
        }
    }
}
