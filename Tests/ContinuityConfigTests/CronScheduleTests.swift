import ContinuityConfig
import Foundation
import OperatorErrors
import Testing

@Suite struct CronScheduleTests {
    /// 2026-03-02 10:17:30 UTC, a Monday.
    let monday = Date(timeIntervalSince1970: 1_772_446_650)

    func next(_ expression: String, after date: Date? = nil) throws -> String {
        let schedule = try CronSchedule(parsing: expression)
        let fire = try #require(schedule.next(after: date ?? monday))
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: fire)
    }

    @Test func everyMinuteFiresAtTheNextWholeMinute() throws {
        #expect(try next("* * * * *") == "2026-03-02T10:18:00Z")
        // Strictly after: a time on the minute does not fire again at itself.
        #expect(try next("* * * * *", after: Date(timeIntervalSince1970: 1_772_446_680)) == "2026-03-02T10:19:00Z")
    }

    @Test func stepsRangesListsAndNames() throws {
        #expect(try next("*/15 * * * *") == "2026-03-02T10:30:00Z")
        #expect(try next("0 */6 * * *") == "2026-03-02T12:00:00Z")
        #expect(try next("5,50 9-11 * * *") == "2026-03-02T10:50:00Z")
        #expect(try next("0 0 1 jan *") == "2027-01-01T00:00:00Z")
        #expect(try next("30 2 * * sun") == "2026-03-08T02:30:00Z")
        #expect(try next("30 2 * * 7") == "2026-03-08T02:30:00Z")
        #expect(try next("10/20 * * * *") == "2026-03-02T10:30:00Z")
        #expect(try next("0 12 * * mon-fri", after: Date(timeIntervalSince1970: 1_772_878_650)) == "2026-03-09T12:00:00Z")
    }

    @Test func restrictedDayFieldsFireOnEitherAsCronDoes() throws {
        // The 15th, or any Friday: Friday the 6th comes first.
        #expect(try next("0 0 15 * fri") == "2026-03-06T00:00:00Z")
        // Only the day of month restricted: the 15th.
        #expect(try next("0 0 15 * *") == "2026-03-15T00:00:00Z")
    }

    @Test func leapDaysAndMonthEnds() throws {
        #expect(try next("0 0 29 2 *") == "2028-02-29T00:00:00Z")
        #expect(try next("0 0 31 * *") == "2026-03-31T00:00:00Z")
        #expect(try next("59 23 31 12 *") == "2026-12-31T23:59:00Z")
    }

    @Test(arguments: [
        "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
        "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *", "1-2-3 * * * *", "* * * foo *", "-1 * * * *",
    ])
    func refusesWhatCronWouldNotRead(_ expression: String) {
        let error = #expect(throws: UsageError.self) { try CronSchedule(parsing: expression) }
        #expect(error?.status == .badInput)
    }

    @Test func refusesAScheduleThatNeverFires() {
        let error = #expect(throws: UsageError.self) { try CronSchedule(parsing: "0 0 30 2 *") }
        #expect(error?.problem.contains("never fires") == true)
    }

    @Test func everyIntervalFiresThatLongAfter() throws {
        let schedule = try CronSchedule(parsing: "@every 90s")
        #expect(schedule.description == "@every 1m30s")
        #expect(schedule.next(after: monday) == monday.addingTimeInterval(90))
        #expect(try CronSchedule(parsing: " @every 3s ").interval == .seconds(3))
        for bad in ["@every", "@every 0s", "@every 500ms", "@every 3", "@every often", "@hourly"] {
            let error = #expect(throws: UsageError.self) { try CronSchedule(parsing: bad) }
            #expect(error?.status == .badInput)
        }
    }

    @Test func durations() throws {
        #expect(try DurationText.parse("10m") == .seconds(600))
        #expect(try DurationText.parse("1h30m") == .seconds(5400))
        #expect(try DurationText.parse("500ms") == .milliseconds(500))
        #expect(DurationText.format(.seconds(5400)) == "1h30m")
        #expect(DurationText.format(.seconds(90)) == "1m30s")
        for bad in ["", "10", "m", "5x", "1.5s", "-3s", "9999999999s", String(repeating: "999999999h", count: 3000)] {
            #expect(throws: UsageError.self) { try DurationText.parse(bad) }
        }
    }
}
