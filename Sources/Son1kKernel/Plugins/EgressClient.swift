import Foundation
import Son1kPluginKit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Outbound HTTP for plugins, limited to the hosts each plugin's config names in
/// `egress_hosts` (`"api.stripe.com"` or `"127.0.0.1:11434"`). Blocking: it runs on the
/// plugin's handler thread, never on an event loop.
final class EgressClient: Sendable {
    let session: URLSession

    init() {
        let config = URLSessionConfiguration.ephemeral
        config.httpCookieStorage = nil
        config.urlCache = nil
        session = URLSession(configuration: config)
    }

    /// Returns the response metadata JSON `{status, headers}` and the body.
    func fetch(_ spec: JSONValue, body: [UInt8], allowedHosts: [String]) throws -> ([UInt8], [UInt8]) {
        guard let urlString = spec["url"].string, let url = URL(string: urlString), let host = url.host,
              ["http", "https"].contains(url.scheme ?? "") else {
            throw PluginError(status: 400, code: "invalid_url", detail: "The request needs an absolute http(s) URL.")
        }
        let hostPort = url.port.map { "\(host):\($0)" } ?? host
        guard allowedHosts.contains(host) || allowedHosts.contains(hostPort) else {
            throw PluginError(status: 403, code: "egress_denied", detail: "\(hostPort) is not in this plugin's egress_hosts.")
        }
        var request = URLRequest(url: url)
        request.httpMethod = spec["method"].string ?? "GET"
        request.timeoutInterval = spec["timeout_s"].double ?? 30
        for (name, value) in spec["headers"].object ?? [:] { request.setValue(value.string, forHTTPHeaderField: name) }
        if !body.isEmpty { request.httpBody = Data(body) }

        let box = ResultBox()
        let semaphore = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            box.set(data: data, response: response, error: error)
            semaphore.signal()
        }.resume()
        semaphore.wait()
        let (data, response, error) = box.get()
        if let error {
            throw PluginError(status: 502, code: "upstream_unreachable", detail: "\(hostPort): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else {
            throw PluginError(status: 502, code: "upstream_invalid", detail: "\(hostPort) did not answer with HTTP.")
        }
        var headers: [String: JSONValue] = [:]
        for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = .string(String(describing: v)) }
        let meta: JSONValue = ["status": .number(Double(http.statusCode)), "headers": .object(headers)]
        return (meta.bytes, Array(data ?? Data()))
    }

    private final class ResultBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value: (Data?, URLResponse?, (any Error)?) = (nil, nil, nil)
        func set(data: Data?, response: URLResponse?, error: (any Error)?) { lock.withLock { value = (data, response, error) } }
        func get() -> (Data?, URLResponse?, (any Error)?) { lock.withLock { value } }
    }
}
