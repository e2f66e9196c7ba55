import CCurlFetch
import Foundation
import Son1kPluginKit

/// Outbound HTTP for plugins, limited to the hosts each plugin's config names in
/// `egress_hosts` (`"api.stripe.com"` or `"127.0.0.1:11434"`). Blocking: it runs on the
/// plugin's handler thread, never on an event loop.
///
/// Requests go through libcurl rather than URLSession: a request may name its own proxy
/// (a provider account's egress proxy), which URLSession on Linux ignores; and redirects are
/// not followed, so a plugin reaches only hosts its allow-list names.
final class EgressClient: Sendable {
    /// Returns the response metadata JSON `{status, headers}` and the body.
    func fetch(_ spec: JSONValue, body: [UInt8], allowedHosts: [String]) throws -> ([UInt8], [UInt8]) {
        guard let urlString = spec["url"].string, let url = URL(string: urlString), url.host != nil,
              ["http", "https"].contains(url.scheme ?? "") else {
            throw PluginError(status: 400, code: "invalid_url", detail: "The request needs an absolute http(s) URL.")
        }
        let hostPort = try Self.allow(url, allowedHosts, role: "")
        var proxy: String?
        if let text = spec["proxy"].string, !text.isEmpty {
            guard let proxyURL = URL(string: text), proxyURL.host != nil, ["http", "https", "socks5", "socks5h"].contains(proxyURL.scheme ?? "") else {
                throw PluginError(status: 400, code: "invalid_proxy", detail: "The proxy must be an http(s) or socks5 URL.")
            }
            _ = try Self.allow(proxyURL, allowedHosts, role: "proxy ")
            proxy = text
        }
        let method = spec["method"].string ?? "GET"
        let headers = (spec["headers"].object ?? [:]).compactMap { name, value in value.string.map { "\(name): \($0)" } }
        let timeoutMs = Int(((spec["timeout_s"].double ?? 30) * 1000).rounded())

        var status = 0
        var headerBuffer = son1k_curl_buffer()
        var bodyBuffer = son1k_curl_buffer()
        var error = [CChar](repeating: 0, count: 256)
        defer {
            son1k_curl_buffer_free(&headerBuffer)
            son1k_curl_buffer_free(&bodyBuffer)
        }
        let result = withCStrings(headers) { lines in
            body.withUnsafeBufferPointer { bytes in
                son1k_curl_fetch(method, urlString, lines.baseAddress, lines.count, bytes.baseAddress, bytes.count,
                                 proxy, timeoutMs, &status, &headerBuffer, &bodyBuffer, &error)
            }
        }
        switch result {
        case 0: break
        case 1: throw PluginError(status: 504, code: "upstream_timeout", detail: "\(hostPort) did not answer within \(timeoutMs / 1000) s.")
        default:
            throw PluginError(status: 502, code: "upstream_unreachable",
                              detail: "\(hostPort)\(proxy == nil ? "" : " (through the proxy)"): \(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        var fields: [String: JSONValue] = [:]
        for line in Self.bytes(headerBuffer).split(separator: UInt8(ascii: "\n")).dropFirst() {
            let text = String(decoding: line, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { continue }
            fields[text[..<colon].lowercased()] = .string(text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let meta: JSONValue = ["status": .number(Double(status)), "headers": .object(fields)]
        return (meta.bytes, Self.bytes(bodyBuffer))
    }

    /// The `host[:port]` of `url` when the allow-list names it.
    private static func allow(_ url: URL, _ allowed: [String], role: String) throws -> String {
        let host = url.host ?? ""
        let hostPort = url.port.map { "\(host):\($0)" } ?? host
        guard allowed.contains(host) || allowed.contains(hostPort) else {
            throw PluginError(status: 403, code: "egress_denied", detail: "The \(role)host \(hostPort) is not in this plugin's egress_hosts.")
        }
        return hostPort
    }

    private static func bytes(_ buffer: son1k_curl_buffer) -> [UInt8] {
        guard let data = buffer.data, buffer.length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: buffer.length))
    }

    /// Borrowed C strings for the duration of `body`.
    private func withCStrings<R>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return copies.map { UnsafePointer($0) }.withUnsafeBufferPointer(body)
    }
}
