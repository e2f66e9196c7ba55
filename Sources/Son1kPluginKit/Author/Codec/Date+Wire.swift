import Foundation

/// The two forms instants take in this system: milliseconds since 1970 in the database (they
/// sort and compare as integers) and ISO 8601 UTC with milliseconds in JSON.
extension Date {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var epochMs: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// `2026-11-22T09:30:00.000Z`.
    ///
    /// Written by arithmetic (``UTCCalendar``) rather than a format style: every
    /// event and row carries a timestamp, and the formatter cost more than the rest of
    /// recording an event, inside the writer's transaction.
    public var iso8601: String {
        let ms = epochMs
        let days = UTCCalendar.floorDiv(ms, 86_400_000)
        let inDay = ms - days * 86_400_000
        let (year, month, day) = UTCCalendar.civil(fromDays: days)
        var out = [UInt8]()
        out.reserveCapacity(24)
        func digits(_ value: Int64, _ count: Int) {
            var v = value, buffer = [UInt8](repeating: 48, count: count)
            for i in stride(from: count - 1, through: 0, by: -1) { buffer[i] = UInt8(48 + v % 10); v /= 10 }
            out.append(contentsOf: buffer)
        }
        digits(year, 4); out.append(45); digits(month, 2); out.append(45); digits(day, 2); out.append(84)
        digits(inDay / 3_600_000, 2); out.append(58); digits(inDay / 60_000 % 60, 2); out.append(58)
        digits(inDay / 1000 % 60, 2); out.append(46); digits(inDay % 1000, 3); out.append(90)
        return String(decoding: out, as: UTF8.self)
    }

    /// The instant `ms` milliseconds after 1970-01-01T00:00:00Z.
    public init(epochMs ms: Int64) { self.init(timeIntervalSince1970: Double(ms) / 1000) }

    /// The instant an ISO 8601 text names, with or without fractional seconds
    /// (`2026-11-22T09:30:00Z`, `2026-11-22T09:30:00.250Z`, `…+01:00`); nil for anything else.
    public init?(iso8601 text: String) {
        if let ms = Self.canonicalMilliseconds(text) {
            self.init(epochMs: ms)
            return
        }
        guard let date = (try? Self.isoStyle.parse(text)) ?? (try? Self.wholeSeconds.parse(text)) else { return nil }
        self = date
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff]Z`, the form this system writes, read by arithmetic; nil for
    /// any other form (an offset, other precision), which the format styles then read.
    private static func canonicalMilliseconds(_ text: String) -> Int64? {
        text.utf8.withContiguousStorageIfAvailable { b -> Int64? in
            guard b.count == 20 || b.count == 24, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b[b.count - 1] == 90 else { return nil }
            func number(_ from: Int, _ count: Int) -> Int64? {
                var value: Int64 = 0
                for i in from..<(from + count) {
                    let d = b[i] &- 48
                    guard d < 10 else { return nil }
                    value = value * 10 + Int64(d)
                }
                return value
            }
            guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
                  let minute = number(14, 2), let second = number(17, 2), (1...12).contains(month), (1...31).contains(day),
                  hour < 24, minute < 60, second < 60 else { return nil }
            var ms: Int64 = 0
            if b.count == 24 {
                guard b[19] == 46, let fraction = number(20, 3) else { return nil }
                ms = fraction
            }
            let days = UTCCalendar.days(fromCivil: year, month, day)
            // A day past the month's end (Feb 30) is not a date: leave it to the format style.
            guard UTCCalendar.civil(fromDays: days) == (year, month, day) else { return nil }
            return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms
        } ?? nil
    }

    /// A value type: no formatter (and no ICU set-up) per call.
    private static let isoStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let wholeSeconds = Date.ISO8601FormatStyle()
}
