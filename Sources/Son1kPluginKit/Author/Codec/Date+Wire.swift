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
        guard let date = (try? Self.isoStyle.parse(text)) ?? (try? Self.wholeSeconds.parse(text)) else { return nil }
        self = date
    }

    /// A value type: no formatter (and no ICU set-up) per call.
    private static let isoStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let wholeSeconds = Date.ISO8601FormatStyle()
}
