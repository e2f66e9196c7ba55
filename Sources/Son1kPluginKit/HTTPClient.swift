import CSon1kABI
import Foundation

/// Outbound HTTP through the kernel. Only hosts listed in the plugin's `egress_hosts`
/// config field are reachable; anything else is refused with 403 `egress_denied`.
///
/// Blocking: call it from a handler (handlers run on the kernel's plugin threads).
public struct HTTPClient: Sendable {
    let host: HostBridge

    public struct Request: Sendable {
        public var method: String
        public var url: String
        public var headers: [String: String]
        public var body: [UInt8]
        public var timeoutSeconds: Double
        /// A proxy for this request alone (`http://user:password@host:3128`); its host must be
        /// in `egress_hosts` too. The kernel never logs it.
        public var proxy: String?

        public init(method: String = "GET", url: String, headers: [String: String] = [:], body: [UInt8] = [], timeoutSeconds: Double = 30,
                    proxy: String? = nil) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.timeoutSeconds = timeoutSeconds
            self.proxy = proxy
        }
    }

    public struct Response: Sendable {
        public var status: Int
        /// Header names lower-cased.
        public var headers: [String: String]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
        public func json() throws -> JSONValue { try JSONValue.parse(body) }
    }

    public func fetch(_ request: Request) throws -> Response {
        var meta: JSONValue = [
            "method": .string(request.method), "url": .string(request.url),
            "headers": .object(request.headers.mapValues { .string($0) }),
            "timeout_s": .number(request.timeoutSeconds),
        ]
        if let proxy = request.proxy { meta["proxy"] = .string(proxy) }
        let text = meta.jsonString
        var metaOut = emptyBuffer()
        var bodyOut = emptyBuffer()
        let status = withUTF8Pointer(text) { m, ml in
            withBytesPointer(request.body) { b, bl in
                host.api.pointee.http_fetch!(host.ctx, m, ml, b, bl, &metaOut, &bodyOut)
            }
        }
        let metaBytes = host.take(&metaOut)
        let bodyBytes = host.take(&bodyOut)
        guard status == Int32(SON1K_OK) else { throw HostBridge.error(status: status, problem: metaBytes) }
        let parsed = try JSONValue.parse(metaBytes)
        let headers = (parsed["headers"].object ?? [:]).compactMapValues { $0.string }
        return Response(status: parsed["status"].int ?? 0, headers: headers, body: bodyBytes)
    }
}
