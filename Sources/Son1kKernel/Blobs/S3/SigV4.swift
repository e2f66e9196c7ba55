import Foundation
import Son1kPluginKit

/// AWS Signature Version 4 for S3 requests, computed as botocore's `S3SigV4Auth` (an
/// `Authorization` header over a signed payload hash) and `S3SigV4QueryAuth` (a presigned
/// URL, `UNSIGNED-PAYLOAD`) compute it; SigV4Tests compares both with botocore's own output.
///
/// Paths are signed as they are sent (S3 does not normalise them), so callers percent-encode
/// object keys with ``encodePath(_:)`` before building the URL.
struct SigV4: Sendable {
    let accessKeyID: String
    let secretAccessKey: String
    let region: String
    var service = "s3"

    /// The headers to send with a request to `url`: `headers` plus `host`, `x-amz-date`,
    /// `x-amz-content-sha256` and `authorization`, every one of `headers` signed.
    func sign(method: String, url: URL, headers: [String: String] = [:], payload: [UInt8], at date: Date) -> [String: String] {
        let stamp = Self.timestamp(date)
        var signed = Dictionary(headers.map { ($0.key.lowercased(), Self.trim($0.value)) }, uniquingKeysWith: { _, last in last })
        signed["host"] = Self.host(url)
        signed["x-amz-date"] = stamp
        signed["x-amz-content-sha256"] = Crypto.sha256Hex(payload)
        let names = signed.keys.sorted()
        let canonical = [
            method, Self.path(url), Self.canonicalQuery(url.query),
            names.map { "\($0):\(signed[$0]!)\n" }.joined(), names.joined(separator: ";"), signed["x-amz-content-sha256"]!,
        ].joined(separator: "\n")
        let signature = self.signature(canonical, stamp: stamp)
        signed["authorization"] = "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope(stamp)), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"
        return signed
    }

    /// A URL anyone may `method` for `expires` seconds from `date`, with no headers but `host`
    /// signed: the query of `url` (operation parameters such as `response-content-type`)
    /// followed by the `X-Amz-*` authentication parameters.
    func presign(method: String = "GET", url: URL, expires: Int, at date: Date) -> String {
        let stamp = Self.timestamp(date)
        let auth: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(accessKeyID)/\(scope(stamp))"),
            ("X-Amz-Date", stamp), ("X-Amz-Expires", "\(expires)"), ("X-Amz-SignedHeaders", "host"),
        ]
        let operation = url.query.map { $0.isEmpty ? "" : "\($0)&" } ?? ""
        let query = operation + auth.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let canonical = [method, Self.path(url), Self.canonicalQuery(query), "host:\(Self.host(url))\n", "host", "UNSIGNED-PAYLOAD"]
            .joined(separator: "\n")
        var base = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        base.percentEncodedQuery = nil
        return "\(base.string!)?\(query)&X-Amz-Signature=\(signature(canonical, stamp: stamp))"
    }

    // MARK: - The algorithm

    private func scope(_ stamp: String) -> String { "\(stamp.prefix(8))/\(region)/\(service)/aws4_request" }

    private func signature(_ canonicalRequest: String, stamp: String) -> String {
        let toSign = "AWS4-HMAC-SHA256\n\(stamp)\n\(scope(stamp))\n\(Crypto.sha256Hex(Array(canonicalRequest.utf8)))"
        var key = Array("AWS4\(secretAccessKey)".utf8)
        for part in [String(stamp.prefix(8)), region, service, "aws4_request"] {
            key = Crypto.hmacSHA256(key: key, message: Array(part.utf8))
        }
        return Crypto.hex(Crypto.hmacSHA256(key: key, message: Array(toSign.utf8)))
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    /// `host` or `host:port` when the port is not the scheme's default, as HTTP clients send it.
    static func host(_ url: URL) -> String {
        let host = url.host ?? ""
        guard let port = url.port, !(url.scheme == "http" && port == 80), !(url.scheme == "https" && port == 443) else { return host }
        return "\(host):\(port)"
    }

    private static func path(_ url: URL) -> String {
        let path = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? ""
        return path.isEmpty ? "/" : path
    }

    /// Query pairs sorted by name, then value, as they stand (already encoded).
    private static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        return query.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }.sorted { $0 < $1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Percent-encode all but the RFC 3986 unreserved characters.
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// Percent-encode an object key or path, keeping its slashes.
    static func encodePath(_ text: String) -> String {
        text.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

    /// Leading and trailing space removed, inner runs of spaces made one.
    private static func trim(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
