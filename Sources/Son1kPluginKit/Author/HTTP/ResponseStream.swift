import CSon1kABI
import Foundation

/// The body of a streamed response, written piece by piece while the handler runs: NDJSON
/// lines as a model produces them, progress as work advances. Get one from
/// ``Request/startStream(status:headers:)`` on a route declared with `stream: true`.
///
/// ```swift
/// r.post("/api/countdown", auth: .user, summary: "Count down, one line a second", stream: true) { req, ctx in
///     let out = try req.startStream(headers: [("Content-Type", "application/x-ndjson")])
///     for n in (1...3).reversed() { try out.write(json: ["n": .number(Double(n))]) }
///     return .streamed
/// }
/// ```
///
/// Each write reaches the client at once. A write throws 499 `client_gone` when the client
/// stopped reading: stop producing and return.
public struct ResponseStreamWriter: Sendable {
    let host: HostBridge
    let handle: UInt64

    /// Send `bytes` now; throws 499 `client_gone` once the client stopped reading.
    public func write(_ bytes: [UInt8]) throws {
        try send(head: nil, bytes)
    }

    /// One NDJSON line: the value's JSON and a newline.
    public func write(json value: JSONValue) throws {
        var line = value.bytes
        line.append(UInt8(ascii: "\n"))
        try write(line)
    }

    func send(head: String?, _ bytes: [UInt8]) throws {
        guard let stream = host.api.pointee.response_stream else { throw Self.unsupported }
        let status = bytes.withUnsafeBufferPointer { data in
            if let head {
                return withUTF8Pointer(head) { h, hl in stream(host.ctx, handle, h, hl, data.baseAddress, data.count) }
            }
            return stream(host.ctx, handle, nil, 0, data.baseAddress, data.count)
        }
        switch status {
        case Int32(SON1K_OK): return
        case Int32(SON1K_ERR_FAILED): throw PluginError(status: 499, code: "client_gone", detail: "The client stopped reading the response.")
        default: throw PluginError(status: 500, code: "stream_refused", detail: "The kernel refused the streamed write (status \(status)).")
        }
    }

    static let unsupported = PluginError(status: 500, code: "stream_unsupported", detail: "This kernel cannot stream responses (ABI 1.1 needed).")
}

extension Request {
    /// Send the response head now and stream the body through the returned writer. Only on
    /// routes declared `stream: true`; once called, the handler's return value is ignored
    /// (return ``Response/streamed``) and the body ends when the handler returns.
    public func startStream(status: Int = 200, headers: [(String, String)] = []) throws -> ResponseStreamWriter {
        guard let writer = streamWriter else {
            throw PluginError(status: 500, code: "stream_unavailable", detail: "This route is not declared `stream: true`.")
        }
        let head: JSONValue = ["status": .number(Double(status)),
                               "headers": .object(Dictionary(headers.map { ($0.0, JSONValue.string($0.1)) }, uniquingKeysWith: { _, b in b }))]
        try writer.send(head: head.jsonString, [])
        return writer
    }
}

extension Response {
    /// What a handler returns after streaming its response; the kernel ignores it.
    public static let streamed = Response(status: 200)
}
