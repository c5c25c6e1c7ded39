import Foundation
import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// The agent's Prometheus metrics, every one labelled `stack`, recorded through swift-metrics
/// into one swift-prometheus registry that `/metrics` prints. Not bootstrapped as the global
/// metrics system: the factory is passed to each metric, so nothing else in the process (the
/// HTTP server's libraries) adds series the agent does not document.
final class AgentMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let stacks: [String: StackMetrics]

    /// swift-metrics' types (Prometheus has its own of the same names).
    typealias Gauge = CoreMetrics.Gauge
    typealias Counter = CoreMetrics.Counter

    struct StackMetrics: Sendable {
        let streamLagSeconds: Gauge
        let streamLagBytes: Gauge
        let streamAppliedTransactions: Counter
        let snapshotLastSuccess: Gauge
        let snapshotLastDuration: Gauge
        let snapshotLastSize: Gauge
        let snapshotFailures: Counter
        let cutoverLastPause: Gauge
        /// Only for a stack with `stream: on`: elsewhere a 0 would read as a stream down.
        let streamUp: Gauge?
    }
    /// Per stack, the progress row's total the applied counter last caught up with.
    private let appliedSeen = Mutex<[String: Int64]>([:])

    init(stacks names: [String], streaming: [String]) {
        let factory = PrometheusMetricsFactory(registry: registry)
        self.factory = factory
        var stacks: [String: StackMetrics] = [:]
        for name in names {
            let labels = [("stack", name)]
            func gauge(_ label: String) -> Gauge { Gauge(label: label, dimensions: labels, factory: factory) }
            func counter(_ label: String) -> Counter { Counter(label: label, dimensions: labels, factory: factory) }
            stacks[name] = StackMetrics(
                streamLagSeconds: gauge("continuity_stream_lag_seconds"),
                streamLagBytes: gauge("continuity_stream_lag_bytes"),
                streamAppliedTransactions: counter("continuity_stream_applied_transactions_total"),
                snapshotLastSuccess: gauge("continuity_snapshot_last_success_timestamp_seconds"),
                snapshotLastDuration: gauge("continuity_snapshot_last_duration_seconds"),
                snapshotLastSize: gauge("continuity_snapshot_last_size_bytes"),
                snapshotFailures: counter("continuity_snapshot_failures_total"),
                cutoverLastPause: gauge("continuity_cutover_last_pause_seconds"),
                streamUp: streaming.contains(name) ? gauge("continuity_stream_up") : nil)
        }
        self.stacks = stacks
    }

    func text() -> [UInt8] {
        registry.emitToBuffer()
    }

    /// A snapshot's JSON report (`seconds`, `stored_bytes`) or its failure.
    func snapshotEnded(_ stack: String, _ result: ChildResult, at time: Date) {
        guard let metrics = stacks[stack] else { return }
        guard result.status == 0, let report = Self.object(result.output) else {
            metrics.snapshotFailures.increment()
            return
        }
        metrics.snapshotLastSuccess.record(time.timeIntervalSince1970)
        if let seconds = report["seconds"] as? Double { metrics.snapshotLastDuration.record(seconds) }
        if let bytes = report["stored_bytes"] as? NSNumber { metrics.snapshotLastSize.record(bytes.doubleValue) }
    }

    /// A scheduled snapshot that could not run (its source or store unreadable): a failure.
    func snapshotSkipped(_ stack: String) {
        stacks[stack]?.snapshotFailures.increment()
    }

    /// The newest snapshot in the store when the agent starts.
    func snapshotFound(_ stack: String, finishedAt: Date) {
        stacks[stack]?.snapshotLastSuccess.record(finishedAt.timeIntervalSince1970)
    }

    /// A cutover's report: `pause_milliseconds` is what clients saw.
    func cutoverEnded(_ stack: String, _ result: ChildResult) {
        guard let metrics = stacks[stack], let report = Self.object(result.output),
              let milliseconds = report["pause_milliseconds"] as? NSNumber else { return }
        metrics.cutoverLastPause.record(milliseconds.doubleValue / 1000)
    }

    /// 1 when the last `stream status` worked and the stream child runs, else 0: the lag gauges
    /// keep their last values when a read fails, so this tells whether they are current.
    func streamUp(_ stack: String, _ up: Bool) {
        stacks[stack]?.streamUp?.record(up ? 1 : 0)
    }

    /// `stream status --json`: lag and the progress row's transaction total. The counter only
    /// moves forward: a total below the last one (a new progress row) is taken as its new base.
    /// False when the report cannot be read.
    @discardableResult
    func streamStatus(_ stack: String, _ output: Data) -> Bool {
        guard let metrics = stacks[stack], let status = Self.object(output) else { return false }
        if let bytes = status["lag_bytes"] as? NSNumber { metrics.streamLagBytes.record(bytes.doubleValue) }
        if let seconds = status["lag_seconds"] as? NSNumber { metrics.streamLagSeconds.record(seconds.doubleValue) }
        guard let total = (status["transactions_applied"] as? NSNumber)?.int64Value else { return true }
        let step = appliedSeen.withLock { seen -> Int64 in
            defer { seen[stack] = total }
            guard let last = seen[stack], total >= last else { return total }
            return total - last
        }
        if step > 0 { metrics.streamAppliedTransactions.increment(by: step) }
        return true
    }

    private static func object(_ data: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
