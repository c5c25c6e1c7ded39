import Foundation
import OperatorErrors

/// A five-field cron expression (minute hour day-of-month month day-of-week), as crontab(5)
/// reads it: `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, month and day
/// names (`jan`, `mon`), and 7 as another Sunday. As in cron, when both day fields are
/// restricted a day matching either fires. Pure: `next(after:)` takes the time it starts from,
/// so the agent's scheduler and the tests share one clock-free rule. Times are UTC.
///
/// Also `@every DURATION` (`@every 30s`, `@every 1h30m`, at least 1 s), as Go's cron and
/// systemd-style configs write it: a fixed interval from the last run rather than wall-clock
/// slots, for sub-minute schedules (the agent's tests run every few seconds with it).
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday (a 7 is folded into 0).
    public let daysOfWeek: Set<Int>
    /// Whether the day fields were `*`: cron ORs them only when both are restricted.
    let anyDayOfMonth: Bool
    let anyDayOfWeek: Bool
    /// `@every`: fires this long after the time it is asked from; the fields above are then empty.
    public let interval: Duration?
    public let description: String

    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// A schedule no date can satisfy (`0 0 30 2 *`) is refused as well: it would never fire.
    public init(parsing text: String) throws(UsageError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("@every") {
            let duration: Duration
            do {
                duration = try DurationText.parse(String(trimmed.dropFirst("@every".count)))
            } catch {
                throw UsageError("'\(text)' is not a schedule: \(error.problem)", fix: "write e.g. '@every 30s' or '@every 1h30m'")
            }
            guard duration >= .seconds(1) else {
                throw UsageError("'\(text)' is too frequent a schedule", fix: "give at least '@every 1s'")
            }
            (minutes, hours, daysOfMonth, months, daysOfWeek) = ([], [], [], [], [])
            (anyDayOfMonth, anyDayOfWeek) = (true, true)
            interval = duration
            description = "@every \(DurationText.format(duration))"
            return
        }
        interval = nil
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw UsageError("'\(text)' is not a cron schedule: it has \(fields.count) fields, not 5",
                             fix: "give minute hour day-of-month month day-of-week, e.g. '0 */6 * * *'")
        }
        minutes = try Self.field(fields[0], name: "minute", range: 0...59, names: [], nameBase: 0)
        hours = try Self.field(fields[1], name: "hour", range: 0...23, names: [], nameBase: 0)
        daysOfMonth = try Self.field(fields[2], name: "day of month", range: 1...31, names: [], nameBase: 1)
        months = try Self.field(fields[3], name: "month", range: 1...12, names: Self.monthNames, nameBase: 1)
        daysOfWeek = Set(try Self.field(fields[4], name: "day of week", range: 0...7, names: Self.dayNames, nameBase: 0).map { $0 % 7 })
        anyDayOfMonth = fields[2].hasPrefix("*")
        anyDayOfWeek = fields[4].hasPrefix("*")
        description = fields.joined(separator: " ")
        guard next(after: Date(timeIntervalSince1970: 0)) != nil else {
            throw UsageError("the cron schedule '\(text)' never fires", fix: "check its day of month against its months")
        }
    }

    /// The first whole minute strictly after `date` that the schedule fires at (for `@every`,
    /// `date` plus the interval); nil only for a
    /// schedule that never fires (refused by `init`), searched over eight years, which covers
    /// every leap-day case.
    public func next(after date: Date) -> Date? {
        if let interval {
            let (seconds, attoseconds) = interval.components
            return date.addingTimeInterval(TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let start = date.addingTimeInterval(60 - date.timeIntervalSince1970.truncatingRemainder(dividingBy: 60))
        var day = calendar.startOfDay(for: start)
        let lastDay = day.addingTimeInterval(8 * 366 * 86_400)
        while day <= lastDay {
            let parts = calendar.dateComponents([.month, .day, .weekday], from: day)
            if let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday,
               months.contains(month), firesOn(dayOfMonth: dayOfMonth, weekday: weekday - 1) {
                for hour in hours.sorted() {
                    for minute in minutes.sorted() {
                        let candidate = day.addingTimeInterval(TimeInterval(hour * 3600 + minute * 60))
                        if candidate >= start { return candidate }
                    }
                }
            }
            // Days are 86,400 s in UTC: no daylight saving to step over.
            day = day.addingTimeInterval(86_400)
        }
        return nil
    }

    private func firesOn(dayOfMonth: Int, weekday: Int) -> Bool {
        switch (anyDayOfMonth, anyDayOfWeek) {
        case (true, true): true
        case (false, true): daysOfMonth.contains(dayOfMonth)
        case (true, false): daysOfWeek.contains(weekday)
        case (false, false): daysOfMonth.contains(dayOfMonth) || daysOfWeek.contains(weekday)
        }
    }

    private static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String],
                              nameBase: Int) throws(UsageError) -> Set<Int> {
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw bad(text, name, range) }
            var step = 1
            if pieces.count == 2 {
                guard let number = Int(pieces[1]), number > 0 else { throw bad(text, name, range) }
                step = number
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2 else { throw bad(text, name, range) }
                var numbers: [Int] = []
                for end in ends {
                    guard let number = value(String(end), names: names, nameBase: nameBase), range.contains(number) else {
                        throw bad(text, name, range)
                    }
                    numbers.append(number)
                }
                guard let low = numbers.first, let high = numbers.last, low <= high else { throw bad(text, name, range) }
                // `5/15` means from 5 to the end, every 15, as in cron.
                bounds = ends.count == 1 && pieces.count == 2 ? low...range.upperBound : low...high
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    private static func value(_ text: String, names: [String], nameBase: Int) -> Int? {
        if let number = Int(text) { return number }
        return names.firstIndex(of: text.lowercased()).map { $0 + nameBase }
    }

    private static func bad(_ text: String, _ name: String, _ range: ClosedRange<Int>) -> UsageError {
        UsageError("'\(text)' is not a valid \(name) field of a cron schedule",
                   fix: "use *, a number \(range.lowerBound)-\(range.upperBound), a range a-b, a step */n or a list a,b")
    }
}
