import Foundation

/// The two forms instants take in this system: milliseconds since 1970 in the database (they
/// sort and compare as integers) and ISO 8601 UTC with milliseconds in JSON.
extension Date {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var epochMs: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// `2026-11-22T09:30:00.000Z`.
    public var iso8601: String { Self.isoStyle.format(self) }

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
