import Foundation
import Son1kPluginKit

/// UTC calendar periods: the keys usage is counted under and the instants limits reset at
/// (daily at 00:00 UTC, monthly on the 1st at 00:00 UTC, hourly on the hour).
///
/// Plain arithmetic on days since the epoch (the proleptic Gregorian calendar, which is
/// what UTC dates use): it is on every request's path, and a `Calendar` or a date formatter
/// costs far more than the query it would serve.
struct Periods: Sendable {
    let now: Date
    private let day: Int64
    private let hour: Int64
    private let civil: (year: Int64, month: Int64, day: Int64)

    init(now: Date) {
        self.now = now
        let seconds = Int64(now.timeIntervalSince1970.rounded(.down))
        day = UTCCalendar.floorDiv(seconds, 86_400)
        hour = UTCCalendar.floorDiv(seconds, 3_600) - day * 24
        civil = UTCCalendar.civil(fromDays: day)
    }

    var dayKey: String { "d:" + Self.ymd(civil.year, civil.month, civil.day) }
    var monthKey: String { "m:" + Self.pad(civil.year, 4) + "-" + Self.pad(civil.month, 2) }
    var hourKey: String { "h:" + Self.ymd(civil.year, civil.month, civil.day) + "T" + Self.pad(hour, 2) }

    func key(for period: Tier.Period) -> String { period == .day ? dayKey : monthKey }

    /// The next reset of `period` after now.
    func resetAt(_ period: Tier.Period) -> Date {
        switch period {
        case .day: return Self.instant(days: day + 1)
        case .month:
            let (y, m) = civil.month == 12 ? (civil.year + 1, Int64(1)) : (civil.year, civil.month + 1)
            return Self.instant(days: UTCCalendar.days(fromCivil: y, m, 1))
        }
    }

    var nextHour: Date { Date(timeIntervalSince1970: Double(day * 86_400 + (hour + 1) * 3_600)) }

    /// Whole seconds until `date`, at least 1 (for `Retry-After` and `RateLimit-Reset`).
    func secondsUntil(_ date: Date) -> Int { max(1, Int(date.timeIntervalSince(now).rounded(.up))) }

    /// `2026-04-01T00:00:00Z`.
    static func iso(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let d = UTCCalendar.floorDiv(seconds, 86_400)
        let c = UTCCalendar.civil(fromDays: d)
        let s = seconds - d * 86_400
        return ymd(c.year, c.month, c.day) + "T" + pad(s / 3600, 2) + ":" + pad(s % 3600 / 60, 2) + ":" + pad(s % 60, 2) + "Z"
    }

    private static func instant(days: Int64) -> Date { Date(timeIntervalSince1970: Double(days * 86_400)) }
    private static func ymd(_ y: Int64, _ m: Int64, _ d: Int64) -> String { pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) }
    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
