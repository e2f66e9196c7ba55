import CCurlFetch
import Foundation
import Son1kPluginKit

/// Outbound HTTP for plugins, limited to the hosts each plugin's config names in
/// `egress_hosts` (`"api.stripe.com"` or `"127.0.0.1:11434"`). Blocking: it runs on the
/// plugin's handler thread, never on an event loop.
///
/// Requests go through libcurl rather than URLSession: a request may name its own proxy
/// (a provider account's egress proxy), which URLSession on Linux ignores; a response can be
/// handed over in pieces as it arrives (a model's token stream); and redirects are not
/// followed, so a plugin reaches only hosts its allow-list names.
final class EgressClient: Sendable {
    /// One checked request, ready for libcurl.
    private struct Prepared {
        var method: String
        var url: String
        var hostPort: String
        var headers: [String]
        var proxy: String?
        var timeoutMs: Int
    }

    /// Returns the response metadata JSON `{status, headers}` and the body.
    func fetch(_ spec: JSONValue, body: [UInt8], allowedHosts: [String]) throws -> ([UInt8], [UInt8]) {
        let p = try prepare(spec, allowedHosts: allowedHosts)
        var status = 0
        var headerBuffer = son1k_curl_buffer()
        var bodyBuffer = son1k_curl_buffer()
        var error = [CChar](repeating: 0, count: 256)
        defer {
            son1k_curl_buffer_free(&headerBuffer)
            son1k_curl_buffer_free(&bodyBuffer)
        }
        let result = withCStrings(p.headers) { lines in
            body.withUnsafeBufferPointer { bytes in
                son1k_curl_fetch(p.method, p.url, lines.baseAddress, lines.count, bytes.baseAddress, bytes.count,
                                 p.proxy, p.timeoutMs, &status, &headerBuffer, &bodyBuffer, &error)
            }
        }
        try check(result, p, error)
        return (Self.meta(status: status, headers: headerBuffer).bytes, Self.bytes(bodyBuffer))
    }

    /// Like ``fetch``, handing the body to `onBody` (metadata, piece) as it arrives; `onBody`
    /// returns false to stop. Returns the metadata JSON.
    func fetchStreaming(_ spec: JSONValue, body: [UInt8], allowedHosts: [String],
                        onBody: (_ meta: [UInt8], _ piece: UnsafeRawBufferPointer) -> Bool) throws -> [UInt8] {
        let p = try prepare(spec, allowedHosts: allowedHosts)
        var status = 0
        var headerBuffer = son1k_curl_buffer()
        var error = [CChar](repeating: 0, count: 256)
        defer { son1k_curl_buffer_free(&headerBuffer) }
        let result = withoutActuallyEscaping(onBody) { onBody in
            var sink = StreamSink(onBody: onBody)
            return withUnsafeMutablePointer(to: &sink) { sinkPointer in
                withCStrings(p.headers) { lines in
                    body.withUnsafeBufferPointer { bytes in
                        son1k_curl_fetch_streaming(p.method, p.url, lines.baseAddress, lines.count, bytes.baseAddress, bytes.count,
                                                   p.proxy, p.timeoutMs, &status, &headerBuffer, { user, status, headers, data, length in
                            let sink = user!.assumingMemoryBound(to: StreamSink.self)
                            if sink.pointee.meta == nil { sink.pointee.meta = EgressClient.meta(status: status, headers: headers!.pointee).bytes }
                            return sink.pointee.onBody(sink.pointee.meta!, UnsafeRawBufferPointer(start: data, count: length)) ? 0 : 1
                        }, sinkPointer, &error)
                    }
                }
            }
        }
        try check(result, p, error)
        return Self.meta(status: status, headers: headerBuffer).bytes
    }

    private struct StreamSink {
        var onBody: (_ meta: [UInt8], _ piece: UnsafeRawBufferPointer) -> Bool
        var meta: [UInt8]?
    }

    private func prepare(_ spec: JSONValue, allowedHosts: [String]) throws -> Prepared {
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
        return Prepared(method: spec["method"].string ?? "GET", url: urlString, hostPort: hostPort,
                        headers: (spec["headers"].object ?? [:]).compactMap { name, value in value.string.map { "\(name): \($0)" } },
                        proxy: proxy, timeoutMs: Int(((spec["timeout_s"].double ?? 30) * 1000).rounded()))
    }

    private func check(_ result: Int32, _ p: Prepared, _ error: [CChar]) throws {
        let why = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let via = p.proxy == nil ? "" : " (through the proxy)"
        switch result {
        case 0: return
        case 1: throw PluginError(status: 504, code: "upstream_timeout", detail: "\(p.hostPort)\(via) did not answer within \(p.timeoutMs / 1000) s.")
        case 3: throw PluginError(status: 502, code: "upstream_interrupted", detail: "\(p.hostPort)\(via) broke off its answer: \(why)")
        default: throw PluginError(status: 502, code: "upstream_unreachable", detail: "\(p.hostPort)\(via): \(why)")
        }
    }

    /// The `host[:port]` of `url` when the allow-list names it.
    private static func allow(_ url: URL, _ allowed: [String], role: String) throws -> String {
        let hostPort = EgressHost.of(url) ?? ""
        guard EgressHost.allows(url, entries: allowed) else {
            throw PluginError(status: 403, code: "egress_denied", detail: "The \(role)host \(hostPort) is not in this plugin's egress_hosts.")
        }
        return hostPort
    }

    /// `{status, headers}` with header names lower-cased, from curl's header lines.
    static func meta(status: Int, headers: son1k_curl_buffer) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        for line in bytes(headers).split(separator: UInt8(ascii: "\n")).dropFirst() {
            let text = String(decoding: line, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { continue }
            fields[text[..<colon].lowercased()] = .string(text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return ["status": .number(Double(status)), "headers": .object(fields)]
    }

    private static func bytes(_ buffer: son1k_curl_buffer) -> [UInt8] {
        guard let data = buffer.data, buffer.length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: buffer.length))
    }
}
