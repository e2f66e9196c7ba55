import CSon1kABI
import Foundation

/// The kernel's function table and this plugin's identity, captured at `init`.
///
/// Immutable after `init`, so sharing it across the plugin's handler threads is safe.
package final class HostBridge: @unchecked Sendable {
    let api: UnsafePointer<son1k_host_api_t>
    let ctx: OpaquePointer

    package init(api: UnsafePointer<son1k_host_api_t>, ctx: OpaquePointer) {
        self.api = api
        self.ctx = ctx
    }

    /// A host function added after ABI 1.0, or nil when the kernel's table is too old to have
    /// it: its `struct_size` ends before the field, which must then not be read at all.
    func function<F>(_ field: KeyPath<son1k_host_api_t, F?>) -> F? {
        guard Int(api.pointee.struct_size) >= MemoryLayout<son1k_host_api_t>.offset(of: field)! + MemoryLayout<UnsafeRawPointer>.size else { return nil }
        return api.pointee[keyPath: field]
    }

    /// Run a host call that fills `out`, copy the result and release the host's buffer.
    /// A non-OK status becomes a ``PluginError`` decoded from the problem JSON in `out`.
    func call(_ body: (OpaquePointer, UnsafeMutablePointer<son1k_buffer_t>) -> son1k_status_t) throws -> [UInt8] {
        var out = son1k_buffer_t(data: nil, len: 0)
        let status = body(ctx, &out)
        let bytes = take(&out)
        guard status == Int32(SON1K_OK) else { throw Self.error(status: status, problem: bytes) }
        return bytes
    }

    /// Copy a host-owned buffer into Swift memory and release it.
    /// A service call through the host (another plugin's, or the kernel's `kernel.…`).
    func callService(_ service: String, _ input: JSONValue) throws -> JSONValue {
        let text = input.jsonString
        let out = try call { ctx, out in
            withUTF8Pointer(service) { s, sl in
                withUTF8Pointer(text) { i, il in api.pointee.call!(ctx, s, sl, i, il, out) }
            }
        }
        return try JSONValue.parse(out)
    }

    func take(_ buffer: inout son1k_buffer_t) -> [UInt8] {
        defer { api.pointee.free_buffer?(&buffer) }
        guard let data = buffer.data, buffer.len > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: buffer.len))
    }

    static func error(status: son1k_status_t, problem: [UInt8]) -> PluginError {
        if let decoded = try? JSONDecoder().decode(PluginError.self, from: Data(problem)) { return decoded }
        return PluginError(status: 500, code: "host_error", detail: "The kernel refused the call (status \(status)).")
    }
}

/// Call `body` with a borrowed (pointer, length) view of a string's UTF-8 bytes.
@inline(__always)
func withUTF8Pointer<R>(_ string: String, _ body: (UnsafePointer<CChar>?, Int) throws -> R) rethrows -> R {
    var s = string
    return try s.withUTF8 { buf in
        try buf.withMemoryRebound(to: CChar.self) { try body($0.baseAddress, $0.count) }
    }
}

/// Call `body` with a borrowed (pointer, length) view of bytes.
@inline(__always)
func withBytesPointer<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>?, Int) throws -> R) rethrows -> R {
    try bytes.withUnsafeBufferPointer { try body($0.baseAddress, $0.count) }
}

/// Copy Swift bytes into a malloc'd buffer the kernel will release with the plugin's `free_buffer`.
package func pluginBuffer<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> son1k_buffer_t {
    guard !bytes.isEmpty else { return son1k_buffer_t(data: nil, len: 0) }
    let p = malloc(bytes.count)!.assumingMemoryBound(to: UInt8.self)
    _ = UnsafeMutableBufferPointer(start: p, count: bytes.count).initialize(from: bytes)
    return son1k_buffer_t(data: p, len: bytes.count)
}

/// A string from a borrowed (pointer, length) pair.
func string(_ p: UnsafePointer<CChar>?, _ len: Int) -> String {
    guard let p, len > 0 else { return "" }
    return p.withMemoryRebound(to: UInt8.self, capacity: len) {
        String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
    }
}

func string(_ s: son1k_str_t) -> String { string(s.data, s.len) }
