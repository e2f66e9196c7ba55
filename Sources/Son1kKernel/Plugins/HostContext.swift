import CSon1kABI
import Foundation
import Logging
import Son1kPluginKit

/// The object behind a plugin's `ctx` pointer: which plugin is calling, and the kernel
/// services its host calls reach. The plugin record keeps it alive for the process's life
/// (the C side holds only an unretained pointer).
final class HostContext: @unchecked Sendable {
    unowned let kernel: Kernel
    unowned let plugin: LoadedPlugin
    let logger: Logger

    init(kernel: Kernel, plugin: LoadedPlugin) {
        self.kernel = kernel
        self.plugin = plugin
        var logger = kernel.logger
        logger[metadataKey: "plugin"] = .string(plugin.name)
        self.logger = logger
    }

    var pointer: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ ctx: OpaquePointer?) -> HostContext {
        Unmanaged<HostContext>.fromOpaque(UnsafeRawPointer(ctx!)).takeUnretainedValue()
    }

    /// Run a host operation: its bytes go to `out` on success, a problem JSON on failure,
    /// and the status tells the plugin which.
    func answer(_ out: UnsafeMutablePointer<son1k_buffer_t>?, _ body: () throws -> [UInt8]) -> son1k_status_t {
        do {
            let bytes = try body()
            out?.pointee = hostBuffer(bytes)
            return Int32(SON1K_OK)
        } catch {
            let problem = Self.problem(for: error)
            out?.pointee = hostBuffer(Array((try? JSONEncoder().encode(problem)) ?? Data()))
            return error is HookVeto ? Int32(SON1K_VETO) : problem.hostStatus
        }
    }

    static func problem(for error: any Error) -> PluginError {
        switch error {
        case let veto as HookVeto: return veto.error
        case let e as PluginError: return e
        case let e as StorageError: return e.pluginError
        default: return PluginError(status: 500, code: "host_error", detail: "\(error)")
        }
    }

    func parseJSON(_ p: UnsafePointer<CChar>?, _ len: Int, what: String) throws -> JSONValue {
        guard let p, len > 0 else { return .null }
        do { return try JSONValue.parse(borrowedBytes(p, len)) } catch {
            throw PluginError(status: 400, code: "invalid_json", detail: "\(what) is not valid JSON.")
        }
    }

    func sqlParams(_ p: UnsafePointer<CChar>?, _ len: Int) throws -> [SQLValue] {
        let json = try parseJSON(p, len, what: "the SQL parameters")
        if json.isNull { return [] }
        guard let array = json.array else { throw PluginError(status: 400, code: "invalid_params", detail: "SQL parameters must be a JSON array.") }
        return array.map(SQLValue.init)
    }

    /// Refuse SQL that reaches outside the plugin's own tables.
    func checkPrefix(_ sql: String) throws {
        if let violation = plugin.prefixGuard.violation(in: sql) {
            throw PluginError(status: 403, code: "table_prefix_violation", detail: violation)
        }
    }
}

/// A hook subscriber's refusal, on its way back to the publisher.
struct HookVeto: Error {
    var error: PluginError
}

/// Copy bytes into a malloc'd buffer the plugin releases with `host->free_buffer`.
func hostBuffer(_ bytes: [UInt8]) -> son1k_buffer_t {
    guard !bytes.isEmpty else { return son1k_buffer_t(data: nil, len: 0) }
    let p = malloc(bytes.count)!.assumingMemoryBound(to: UInt8.self)
    bytes.withUnsafeBufferPointer { p.initialize(from: $0.baseAddress!, count: bytes.count) }
    return son1k_buffer_t(data: p, len: bytes.count)
}
