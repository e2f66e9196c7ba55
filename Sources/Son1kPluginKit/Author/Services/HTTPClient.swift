import CSon1kABI
import Foundation

/// Outbound HTTP through the kernel. Only hosts listed in the plugin's `egress_hosts`
/// config field are reachable; anything else is refused with 403 `egress_denied`.
///
/// Blocking: call it from a handler (handlers run on the kernel's plugin threads).
public struct HTTPClient: Sendable {
    let host: HostBridge

    /// An outbound request.
    public struct Request: Sendable {
        /// `GET`, `POST`, …
        public var method: String
        /// An `http` or `https` URL whose host `egress_hosts` allows.
        public var url: String
        /// Request headers.
        public var headers: [String: String]
        /// The raw body; empty for none.
        public var body: [UInt8]
        /// The whole exchange's limit.
        public var timeoutSeconds: Double
        /// A proxy for this request alone (`http://user:password@host:3128`); its host must be
        /// in `egress_hosts` too. The kernel never logs it.
        public var proxy: String?

        /// A request; `proxy` (`http://user:password@host:port`) for this one alone.
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

    /// An upstream's answer.
    public struct Response: Sendable {
        /// The upstream's status.
        public var status: Int
        /// Header names lower-cased.
        public var headers: [String: String]
        /// The whole body.
        public var body: [UInt8]

        /// An answer with these parts (test stubs build their own).
        public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The body parsed as JSON.
        public func json() throws -> JSONValue { try JSONValue.parse(body) }
    }

    /// Send `request` and wait for the whole answer; redirects are not followed.
    public func fetch(_ request: Request) throws -> Response {
        let text = Self.describe(request)
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

    /// Like ``fetch(_:)``, but the body is handed to `onPiece` as it arrives (a model's token
    /// stream, a long download): `onPiece(status, headers, bytes)` returns false to stop early.
    /// Returns the response with an empty body. Needs a kernel with ABI 1.1.
    public func stream(_ request: Request,
                       _ onPiece: (_ status: Int, _ headers: [String: String], _ bytes: UnsafeRawBufferPointer) -> Bool) throws -> Response {
        guard let fetch = host.function(\.http_fetch_stream) else {
            throw PluginError(status: 500, code: "stream_unsupported", detail: "This kernel cannot stream HTTP responses (ABI 1.1 needed).")
        }
        var metaOut = emptyBuffer()
        let status = withoutActuallyEscaping(onPiece) { onPiece in
            var sink = PieceSink(onPiece: onPiece)
            return withUnsafeMutablePointer(to: &sink) { sinkPointer in
                withUTF8Pointer(Self.describe(request)) { m, ml in
                    withBytesPointer(request.body) { b, bl in
                        fetch(host.ctx, m, ml, b, bl, { user, metaBytes, metaLength, data, length in
                            let sink = user!.assumingMemoryBound(to: PieceSink.self)
                            if sink.pointee.head == nil {
                                let parsed = (try? JSONValue.parse(Array(UnsafeRawBufferPointer(start: metaBytes, count: metaLength)))) ?? [:]
                                sink.pointee.head = (parsed["status"].int ?? 0, (parsed["headers"].object ?? [:]).compactMapValues { $0.string })
                            }
                            let head = sink.pointee.head!
                            return sink.pointee.onPiece(head.0, head.1, UnsafeRawBufferPointer(start: data, count: length)) ? 0 : 1
                        }, sinkPointer, &metaOut)
                    }
                }
            }
        }
        let metaBytes = host.take(&metaOut)
        guard status == Int32(SON1K_OK) else { throw HostBridge.error(status: status, problem: metaBytes) }
        let parsed = try JSONValue.parse(metaBytes)
        return Response(status: parsed["status"].int ?? 0, headers: (parsed["headers"].object ?? [:]).compactMapValues { $0.string }, body: [])
    }

    /// The request as the ABI's JSON.
    private static func describe(_ request: Request) -> String {
        var meta: JSONValue = [
            "method": .string(request.method), "url": .string(request.url),
            "headers": .object(request.headers.mapValues { .string($0) }), "timeout_s": .number(request.timeoutSeconds),
        ]
        if let proxy = request.proxy { meta["proxy"] = .string(proxy) }
        return meta.jsonString
    }

    private struct PieceSink {
        var onPiece: (_ status: Int, _ headers: [String: String], _ bytes: UnsafeRawBufferPointer) -> Bool
        var head: (Int, [String: String])?
    }
}
