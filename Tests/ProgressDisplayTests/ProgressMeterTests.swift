import Logging
import ProgressDisplay
import Testing

@Suite struct ProgressMeterTests {
    @Test func countsBytesRowsAndTableCompletion() {
        let meter = ProgressMeter(verb: "snapshot", totalBytes: 4_000_000, parts: ["public.a": 2, "public.b": 1],
                                  logger: Logger(label: "test"), terminal: false)
        meter.advance(bytes: 1_000_000)
        meter.advance(bytes: 1_000_000)
        #expect(meter.status.hasPrefix("50% 2.0 MB of 4.0 MB, 0 rows, "))
        #expect(meter.finishedPart(of: "public.a", rows: 10, bytes: 1_000_000) == false)
        #expect(meter.finishedPart(of: "public.b", rows: 5, bytes: 1_000_000) == true)
        #expect(meter.finishedPart(of: "public.a", rows: 10, bytes: 1_000_000) == true)
        #expect(meter.status.contains(", 25 rows, "))
        meter.finish()
    }

    @Test func neverReportsMoreThanAllOrANegativeETA() {
        let meter = ProgressMeter(verb: "restore", totalBytes: 100, parts: [:], logger: Logger(label: "test"), terminal: false)
        meter.advance(bytes: 500)  // estimates can be low: heap size is not COPY size
        #expect(meter.status.hasPrefix("100% "))
        #expect(meter.status.hasSuffix("ETA 0 s"))
    }
}
