/// A single `Range: bytes=…` request resolved against a file size (RFC 9110 §14).
/// Multiple ranges are answered with the whole file, which the RFC allows.
public enum ByteRange: Equatable, Sendable {
    /// Serve the whole file (no header, or one we ignore).
    case full
    /// Serve `lower...upper` (inclusive) with 206.
    case partial(lower: Int, upper: Int)
    /// 416: the range starts past the end.
    case unsatisfiable

    public static func parse(_ header: String?, size: Int) -> ByteRange {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return .full }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .full }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix > 0 else { return .full }
            return size == 0 ? .unsatisfiable : .partial(lower: max(0, size - suffix), upper: size - 1)
        }
        guard let lower = Int(parts[0]), lower >= 0 else { return .full }
        guard lower < size else { return .unsatisfiable }
        if parts[1].isEmpty { return .partial(lower: lower, upper: size - 1) }
        guard let upper = Int(parts[1]), upper >= lower else { return .full }
        return .partial(lower: lower, upper: min(upper, size - 1))
    }
}
