import Foundation

/// The time plugins see through `host->now_ms` (`ctx.now` in the SDK).
///
/// The system clock — unless the environment names `SON1K_TEST_CLOCK_FILE`: then the instant
/// written in that file (ISO 8601, or milliseconds since the epoch), read again at every
/// call. Tests use it to cross a day or month boundary without waiting. It is for tests only:
/// the kernel logs a warning at start-up when it is set. The kernel's own timestamps (tokens,
/// events) always use the system clock; signed media URLs follow this one, as plugins hand
/// them out, so a test can let one expire without waiting.
struct PluginClock: Sendable {
    let file: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        file = environment["SON1K_TEST_CLOCK_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func nowMs() -> Int64 {
        if let file, let fixed = Self.read(file) { return fixed }
        return Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// ``nowMs()`` as a date.
    var now: Date { Date(timeIntervalSince1970: Double(nowMs()) / 1000) }

    static func read(_ path: String) -> Int64? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        if let ms = Int64(text) { return ms }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
    }
}
