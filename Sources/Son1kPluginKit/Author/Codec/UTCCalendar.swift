/// Calendar arithmetic in UTC, by integer days since 1970-01-01 (H. Hinnant's
/// `civil_from_days` / `days_from_civil`): what timestamps are written with, and what a
/// plugin needs for daily or monthly periods (a quota's reset) without a `Calendar`.
///
/// ```swift
/// let firstOfNextMonth = UTCCalendar.days(fromCivil: 2026, 12, 1)
/// ```
public enum UTCCalendar {
    /// The proleptic Gregorian date of the day `days` after 1970-01-01 (negative: before).
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Days from 1970-01-01 to `year`-`month`-`day` (month 1–12).
    public static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `a / b` rounded toward minus infinity (days before 1970 are negative).
    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
}
