import ContinuityConfig
import OperatorErrors
import Testing

@Suite struct DurationTextTests {
    @Test(arguments: [("500ms", 500), ("2s", 2000), ("1m30s", 90_000), ("10m", 600_000), ("1h", 3_600_000), ("0s", 0)])
    func readsWhatOperatorsWrite(_ text: String, _ milliseconds: Int64) throws {
        #expect(try DurationText.parse(text, option: "max-pause") == .milliseconds(milliseconds))
    }

    @Test(arguments: ["", "2", "s", "-1s", "2 s", "2x", "nans", "1.5s", "9999999999h", "2sec"])
    func refusesAnythingElseNamingTheOption(_ text: String) {
        #expect(throws: UsageError.self) { try DurationText.parse(text, option: "max-pause") }
        do { _ = try DurationText.parse(text, option: "max-pause") } catch { #expect(error.problem.contains("--max-pause")) }
    }
}
