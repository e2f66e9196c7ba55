/// A single `Range: bytes=…` request resolved against a file size (RFC 9110 §14).
/// Multiple ranges are answered with the whole file, which the RFC allows.
package enum ByteRange: Equatable, Sendable {
    /// Serve the whole file (no header, or one we ignore).
    case full
    /// Serve `lower...upper` (inclusive) with 206.
    case partial(lower: Int, upper: Int)
    /// 416: the range starts past the end.
    case unsatisfiable

    package static func parse(_ header: String?, size: Int) -> ByteRange {
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

extension Response {
    /// Bytes a client may fetch in parts, as audio players do when they seek: the whole body
    /// with `Accept-Ranges: bytes`, 206 with `Content-Range` for one `Range: bytes=…`, and
    /// 416 for a range past the end. Pass the request's `range` header as it came.
    public static func ranged(_ bytes: [UInt8], contentType: String, range: String?, headers extra: [(String, String)] = []) throws -> Response {
        var headers = [("Content-Type", contentType), ("Accept-Ranges", "bytes")] + extra
        switch ByteRange.parse(range, size: bytes.count) {
        case .full:
            return Response(status: 200, headers: headers, body: bytes)
        case .unsatisfiable:
            throw PluginError(status: 416, code: "range_not_satisfiable", detail: "The content has \(bytes.count) bytes.",
                              headers: ["Content-Range": "bytes */\(bytes.count)"])
        case .partial(let lower, let upper):
            headers.append(("Content-Range", "bytes \(lower)-\(upper)/\(bytes.count)"))
            return Response(status: 206, headers: headers, body: Array(bytes[lower...upper]))
        }
    }
}
