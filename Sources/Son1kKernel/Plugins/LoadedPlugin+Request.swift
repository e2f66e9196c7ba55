import CSon1kABI
import Foundation
import NIOCore
import Son1kPluginKit

/// A request on its way into a plugin, in kernel types.
struct PluginRequest {
    var routeIndex: Int
    var method: String
    var path: String
    var query: String
    var requestID: String
    var params: [(String, String)]
    var headers: [(String, String)]
    var principal: Principal?
    var body: ByteBuffer
    /// The handle of this request's ``ResponseStream``, 0 when the route does not stream.
    var stream: UInt64 = 0
}

/// A plugin's response, copied out of the plugin's buffers.
struct PluginResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
}

extension LoadedPlugin {
    /// Call `handle_request`. The request's strings are packed into one buffer the plugin
    /// borrows for the call, and the body is passed as the bytes received: nothing is
    /// re-encoded on the way in, and the response body is copied once on the way out.
    func handleRequest(_ r: PluginRequest) -> PluginResponse {
        var packer = StringPacker()
        let method = packer.add(r.method), path = packer.add(r.path), query = packer.add(r.query), requestID = packer.add(r.requestID)
        let params = r.params.map { (packer.add($0.0), packer.add($0.1)) }
        let headers = r.headers.map { (packer.add($0.0), packer.add($0.1)) }
        let pid = packer.add(r.principal?.id ?? ""), prole = packer.add(r.principal?.role ?? ""), pkind = packer.add(r.principal?.kind.rawValue ?? "")

        var response = son1k_response_t(status: 500, headers: son1k_buffer_t(data: nil, len: 0), body: son1k_buffer_t(data: nil, len: 0))
        let status: son1k_status_t = packer.bytes.withUnsafeBufferPointer { storage in
            let base = UnsafeRawPointer(storage.baseAddress)?.assumingMemoryBound(to: CChar.self)
            func str(_ span: StringPacker.Span) -> son1k_str_t { son1k_str_t(data: base.map { $0 + span.offset }, len: span.length) }
            let paramPairs = params.map { son1k_pair_t(name: str($0.0), value: str($0.1)) }
            let headerPairs = headers.map { son1k_pair_t(name: str($0.0), value: str($0.1)) }
            return paramPairs.withUnsafeBufferPointer { pp in
                headerPairs.withUnsafeBufferPointer { hp in
                    r.body.withUnsafeReadableBytes { body in
                        var request = son1k_request_t(
                            struct_size: UInt32(MemoryLayout<son1k_request_t>.size), route_index: UInt32(r.routeIndex),
                            method: str(method), path: str(path), query: str(query), request_id: str(requestID),
                            params: pp.baseAddress, params_count: pp.count, headers: hp.baseAddress, headers_count: hp.count,
                            principal_id: str(pid), principal_role: str(prole), principal_kind: str(pkind),
                            body: body.baseAddress?.assumingMemoryBound(to: UInt8.self), body_len: body.count, stream: r.stream)
                        return api.pointee.handle_request!(&request, &response)
                    }
                }
            }
        }
        let headerBytes = take(&response.headers)
        let body = take(&response.body)
        guard status == Int32(SON1K_OK) else {
            return PluginResponse(status: 500, headers: [("Content-Type", Problem.contentType)],
                                  body: Problem.body(status: 500, code: "plugin_error", detail: "The plugin '\(name)' failed to handle the request."))
        }
        return PluginResponse(status: Int(response.status), headers: Self.parseHeaders(headerBytes), body: body)
    }

    /// Parse "Name: value\n" lines (the ABI's header format) without Foundation string bridging.
    static func parseHeaders(_ bytes: [UInt8]) -> [(String, String)] {
        var headers: [(String, String)] = []
        var lineStart = 0
        func trimmed(_ from: Int, _ to: Int) -> String {
            var a = from, b = to
            while a < b, bytes[a] == UInt8(ascii: " ") || bytes[a] == UInt8(ascii: "\t") { a += 1 }
            while b > a, bytes[b - 1] == UInt8(ascii: " ") || bytes[b - 1] == UInt8(ascii: "\r") { b -= 1 }
            return String(decoding: bytes[a..<b], as: UTF8.self)
        }
        for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: "\n") {
            if let colon = bytes[lineStart..<i].firstIndex(of: UInt8(ascii: ":")) {
                headers.append((trimmed(lineStart, colon), trimmed(colon + 1, i)))
            }
            lineStart = i + 1
        }
        return headers
    }
}

/// Packs many strings into one contiguous buffer so a C struct can point into it.
struct StringPacker {
    struct Span { var offset: Int; var length: Int }
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(512) }

    mutating func add(_ s: String) -> Span {
        let start = bytes.count
        bytes.append(contentsOf: s.utf8)
        return Span(offset: start, length: bytes.count - start)
    }
}
