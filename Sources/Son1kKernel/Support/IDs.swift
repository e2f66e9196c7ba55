import Foundation
import Son1kPluginKit

/// Identifiers the kernel hands out: sortable by creation time (so "newest first" and
/// cursors work on the id alone) and unguessable.
public enum IDs {
    /// `<prefix>_<12 hex digits of milliseconds><16 hex random>`.
    public static func make(_ prefix: String, now: Date = Date()) -> String {
        let ms = UInt64(now.timeIntervalSince1970 * 1000)
        let time = String(ms, radix: 16).leftPadded(to: 12)
        return "\(prefix)_\(time)\(Crypto.hex(Crypto.randomBytes(8)))"
    }
}

extension String {
    func leftPadded(to length: Int, with pad: Character = "0") -> String {
        count >= length ? self : String(repeating: pad, count: length - count) + self
    }
}

/// ISO 8601 timestamps in UTC with milliseconds, the one format the kernel stores and serves.
public enum Timestamp {
    public static func string(_ date: Date) -> String { date.iso8601 }
    public static func now() -> String { string(Date()) }
}
