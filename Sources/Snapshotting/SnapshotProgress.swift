import Foundation
import Logging

/// Progress of a snapshot: a log line per finished table, with the overall rate and ETA.
/// Estimates use heap size, which is what the parts were planned by.
actor SnapshotProgress {
    private let logger: Logger
    private let started = ContinuousClock.now
    private let totalBlocks: Int64
    private var doneBlocks: Int64 = 0
    private var remainingParts: [UInt32: Int]
    private var tableTotals: [UInt32: (rows: Int64, raw: Int64, stored: Int64)] = [:]
    private var rawBytes: Int64 = 0

    init(parts: [SnapshotRunner.PartJob], logger: Logger) {
        self.logger = logger
        totalBlocks = max(1, parts.reduce(0) { $0 + $1.blocks })
        remainingParts = Dictionary(parts.map { ($0.table.oid, 1) }, uniquingKeysWith: +)
    }

    func finished(_ job: SnapshotRunner.PartJob, rows: Int64, rawBytes: Int64, storedBytes: Int64) {
        let table = job.table
        doneBlocks += job.blocks
        self.rawBytes += rawBytes
        var totals = tableTotals[table.oid] ?? (0, 0, 0)
        totals = (totals.rows + rows, totals.raw + rawBytes, totals.stored + storedBytes)
        tableTotals[table.oid] = totals
        remainingParts[table.oid, default: 1] -= 1
        guard remainingParts[table.oid] == 0 else { return }
        let elapsed = Self.seconds(ContinuousClock.now - started)
        let fraction = min(1, Double(doneBlocks) / Double(totalBlocks))
        let rate = Double(self.rawBytes) / max(elapsed, 0.001)
        let eta = fraction > 0 ? elapsed / fraction - elapsed : 0
        logger.info("\(table.schema).\(table.name): \(totals.rows) rows, \(Self.megabytes(totals.raw)) → \(Self.megabytes(totals.stored)); overall \(Int(fraction * 100))%, \(Self.megabytes(Int64(rate)))/s, ETA \(Int(eta.rounded())) s")
    }

    static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
