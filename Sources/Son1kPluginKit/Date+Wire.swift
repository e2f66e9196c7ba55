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

    /// A value type: no formatter (and no ICU set-up) per call.
    private static let isoStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
