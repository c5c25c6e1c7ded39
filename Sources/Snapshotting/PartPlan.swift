/// How a table is cut into parts: by ranges of heap blocks, read with TID range scans, so one
/// large table keeps several jobs busy while every part is still one sequential read.
public struct PartPlan: Equatable, Sendable {
    /// Half-open block ranges; the last is open-ended (nil upper bound), so rows in blocks
    /// added after the size was read are never missed.
    public let ranges: [(first: Int64, end: Int64?)]

    public static func == (lhs: PartPlan, rhs: PartPlan) -> Bool {
        lhs.ranges.map(\.first) == rhs.ranges.map(\.first) && lhs.ranges.map(\.end) == rhs.ranges.map(\.end)
    }

    /// `blocks`: the table's size in blocks now; `blocksPerPart`: the target part size.
    public init(blocks: Int64, blocksPerPart: Int64) {
        let count = max(1, Int((blocks + blocksPerPart - 1) / blocksPerPart))
        ranges = (0..<count).map { index in
            let first = Int64(index) * blocksPerPart
            return (first, index == count - 1 ? nil : first + blocksPerPart)
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
    public let table: SourceCatalogue.Table
    public let index: Int
    public let condition: String?
    /// The part's size estimate in heap blocks, for progress.
    public let blocks: Int64

    /// Every table cut into parts, in the tables' order (largest first).
    public static func parts(of tables: [SourceCatalogue.Table], blocksPerPart: Int64) -> [TablePart] {
        tables.flatMap { table in
            let plan = PartPlan(blocks: table.blocks, blocksPerPart: blocksPerPart)
            return plan.ranges.enumerated().map { index, range in
                TablePart(table: table, index: index, condition: plan.condition(index),
                          blocks: max(1, (range.end ?? max(table.blocks, range.first + 1)) - range.first))
            }
        }
    }
}
