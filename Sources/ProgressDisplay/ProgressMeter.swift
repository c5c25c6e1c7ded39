import Foundation
import Logging
import Synchronization

/// Progress of a long copy (snapshot, restore): bytes move through `advance` from the copy
/// threads (an atomic add, no hop), parts through `finishedPart`, which says when a table is
/// complete. On a terminal one status line is redrawn twice a second; otherwise each finished
/// table is a log line.
public final class ProgressMeter: Sendable {
    private let verb: String
    private let totalBytes: Int64
    private let logger: Logger
    private let bytes = Atomic<Int64>(0)
    private let rows = Atomic<Int64>(0)
    private let started = ContinuousClock.now
    private let live: Bool
    private let ticker = Mutex<Task<Void, Never>?>(nil)
    /// Per table: parts still to come, rows and bytes so far.
    private let tables: Mutex<[String: (remaining: Int, rows: Int64, bytes: Int64)]>

    /// `totalBytes` is the estimate the rate and ETA are measured against; `parts` says how
    /// many parts each table has, so the meter knows when one is complete.
    public init(verb: String, totalBytes: Int64, parts: [String: Int], logger: Logger,
                terminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.verb = verb
        self.tables = Mutex(parts.mapValues { (remaining: $0, rows: 0, bytes: 0) })
        self.totalBytes = max(totalBytes, 1)
        self.logger = logger
        self.live = terminal
        guard terminal else { return }
        ticker.withLock { $0 = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))  // a redraw interval, not synchronisation
                self?.draw()
            }
        } }
    }

    /// Called from copy threads for every chunk moved.
    public func advance(bytes count: Int) {
        bytes.add(Int64(count), ordering: .relaxed)
    }

    /// Returns whether that was the table's last part.
    @discardableResult
    public func finishedPart(of table: String, rows partRows: Int64, bytes partBytes: Int64) -> Bool {
        rows.add(partRows, ordering: .relaxed)
        let complete = tables.withLock { tables -> (rows: Int64, bytes: Int64)? in
            guard var entry = tables[table] else { return nil }
            entry = (entry.remaining - 1, entry.rows + partRows, entry.bytes + partBytes)
            tables[table] = entry
            return entry.remaining == 0 ? (entry.rows, entry.bytes) : nil
        }
        guard let complete else { return false }
        if live {
            draw(note: "\(table) done")
        } else {
            logger.info("\(table): \(complete.rows) rows, \(megabytes(complete.bytes)); overall \(status)")
        }
        return true
    }

    /// Stops the ticker and ends the status line with what was done (the total was an estimate).
    public func finish() {
        ticker.withLock { $0?.cancel(); $0 = nil }
        guard live else { return }
        let done = bytes.load(ordering: .relaxed)
        let elapsed = max((ContinuousClock.now - started).seconds, 0.001)
        let summary = "\(verb): moved \(megabytes(done)), \(rows.load(ordering: .relaxed)) rows in "
            + String(format: "%.1f s (%@/s)", elapsed, megabytes(Int64(whole(Double(done) / elapsed))))
        FileHandle.standardError.write(Data("\r\u{1B}[K\(summary)\n".utf8))
    }

    /// `45% 120.3 MB of 265.0 MB, 1200000 rows, 85.2 MB/s, ETA 2 s`
    public var status: String {
        let done = bytes.load(ordering: .relaxed)
        let elapsed = max((ContinuousClock.now - started).seconds, 0.001)
        let rate = Double(done) / elapsed
        let fraction = min(1, Double(done) / Double(totalBytes))
        let eta = rate > 0 ? Double(max(totalBytes - done, 0)) / rate : 0
        return "\(whole(fraction * 100))% \(megabytes(done)) of \(megabytes(totalBytes)), "
            + "\(rows.load(ordering: .relaxed)) rows, \(megabytes(Int64(whole(rate))))/s, ETA \(whole(eta)) s"
    }

    private func draw(note: String? = nil) {
        let line = "\(verb): \(status)" + (note.map { " — \($0)" } ?? "")
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

}

/// A Double as a whole number for display, never trapping: a total read from a damaged
/// manifest can make a rate or an ETA absurd, infinite or NaN.
func whole(_ value: Double) -> Int {
    guard value.isFinite else { return 0 }
    return Int(max(-1e15, min(1e15, value.rounded())))
}
