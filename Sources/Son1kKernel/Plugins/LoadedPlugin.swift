import CSon1kABI
import Foundation
import Son1kPluginKit
import Synchronization

/// Where a plugin stands, as `GET /api/plugins` shows it.
public enum PluginStatus: Sendable, Equatable {
    /// Opened and checked, not yet initialised (only during boot or `plugins check`).
    case loaded
    case running
    /// Not started by choice or circumstance: disabled in plugins.json, or a plugin it
    /// requires is not running.
    case disabled(String)
    /// Started and broke: missing or refused library, invalid config, failed migration or init.
    case failed(String)

    public var name: String {
        switch self {
        case .loaded: return "loaded"
        case .running: return "running"
        case .disabled: return "disabled"
        case .failed: return "failed"
        }
    }

    public var reason: String? {
        switch self {
        case .disabled(let r), .failed(let r): return r
        default: return nil
        }
    }

    public var isUsable: Bool { self == .loaded || self == .running }
}

/// One entry of plugins.json and, once opened, its library. Boot fills it in on one thread;
/// afterwards only `status` changes, under its lock.
public final class LoadedPlugin: @unchecked Sendable {
    public let entry: PluginEntry
    public internal(set) var library: PluginLibrary?
    /// The validated config with the schema's defaults applied.
    public internal(set) var config: JSONValue = [:]
    var secretFields: Set<String> = []
    var hostContext: HostContext?
    let prefixGuard: CachedPrefixGuard
    private let state = Mutex<PluginStatus>(.loaded)

    init(entry: PluginEntry) {
        self.entry = entry
        prefixGuard = CachedPrefixGuard(TablePrefixGuard(pluginName: entry.name))
    }

    public var name: String { entry.name }
    public var manifest: Manifest? { library?.manifest }
    public var status: PluginStatus {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
    var api: UnsafePointer<son1k_plugin_api_t> { library!.api }
    /// The ABI minor version the plugin was built against.
    var abiMinor: Int { Int(api.pointee.abi_version & 0xFFFF) }

    /// The plugin's `egress_hosts` entries: the hosts `http_fetch` may reach (see ``EgressHost``).
    var egressHosts: [String] { (config["egress_hosts"].array ?? []).compactMap(\.string) }

    // MARK: Calls into the plugin (any thread; the plugin must be thread-safe)

    /// The outcome of delivering an event.
    enum EventOutcome {
        case ok(replacement: JSONValue?)
        case veto(PluginError)
        case failed(String)
    }

    func handleEvent(topic: String, envelope: [UInt8], txn: UInt64) -> EventOutcome {
        var out = son1k_buffer_t(data: nil, len: 0)
        let status = withStringPointer(topic) { t, tl in
            envelope.withUnsafeBufferPointer { e in
                e.withMemoryRebound(to: CChar.self) { api.pointee.handle_event!(t, tl, $0.baseAddress, $0.count, txn, &out) }
            }
        }
        let bytes = take(&out)
        switch status {
        case Int32(SON1K_OK):
            let replacement = bytes.isEmpty ? nil : (try? JSONValue.parse(bytes))?["data"]
            return .ok(replacement: replacement)
        case Int32(SON1K_VETO):
            let veto = (try? JSONDecoder().decode(PluginError.self, from: Data(bytes)))
                ?? PluginError(status: 409, code: "vetoed", detail: "The plugin '\(name)' refused the operation.")
            return .veto(veto)
        default:
            return .failed(bytes.isEmpty ? "status \(status)" : String(decoding: bytes, as: UTF8.self))
        }
    }

    func handleCall(service: String, input: [UInt8]) -> Result<[UInt8], PluginError> {
        var out = son1k_buffer_t(data: nil, len: 0)
        let status = withStringPointer(service) { s, sl in
            input.withUnsafeBufferPointer { i in
                i.withMemoryRebound(to: CChar.self) { api.pointee.handle_call!(s, sl, $0.baseAddress, $0.count, &out) }
            }
        }
        let bytes = take(&out)
        guard status == Int32(SON1K_OK) else {
            return .failure((try? JSONDecoder().decode(PluginError.self, from: Data(bytes)))
                ?? PluginError(status: 502, code: "service_failed", detail: "The service '\(service)' of plugin '\(name)' failed."))
        }
        return .success(bytes)
    }

    /// A graceful shutdown began: the plugin hands back its background work. Plugins built
    /// before ABI 1.2 have no `drain` and are only stopped.
    func drain() {
        guard has(\.drain), let drain = api.pointee.drain else { return }
        drain()
    }

    /// True when the plugin's table is long enough to hold `field` (added in a later minor).
    func has<Field>(_ field: KeyPath<son1k_plugin_api_t, Field>) -> Bool {
        Int(api.pointee.struct_size) >= MemoryLayout<son1k_plugin_api_t>.offset(of: field)! + MemoryLayout<Field>.size
    }

    /// Hand a job to the plugin (`handle_job`): to run (`txn` 0) or to hear of a change inside
    /// `txn`. Nil when the plugin answered OK; otherwise its answer (or why it could not).
    func handleJob(envelope: [UInt8], txn: UInt64) -> JSONValue? {
        guard has(\.handle_job), let handle = api.pointee.handle_job else {
            return ["outcome": "failed", "error": .string("The plugin '\(name)' cannot run jobs (built before ABI 1.3)."), "retryable": false]
        }
        var out = son1k_buffer_t(data: nil, len: 0)
        let status = envelope.withUnsafeBufferPointer { e in
            e.withMemoryRebound(to: CChar.self) { handle($0.baseAddress, $0.count, txn, &out) }
        }
        let bytes = take(&out)
        if status == Int32(SON1K_OK) { return nil }
        return (try? JSONValue.parse(bytes)) ?? ["outcome": "failed", "error": .string(bytes.isEmpty ? "status \(status)" : String(decoding: bytes, as: UTF8.self)), "retryable": true]
    }

    /// Copy a plugin-owned buffer and release it with the plugin's `free_buffer`.
    func take(_ buffer: inout son1k_buffer_t) -> [UInt8] {
        guard let data = buffer.data else { return [] }
        let bytes = Array(UnsafeBufferPointer(start: data, count: buffer.len))
        api.pointee.free_buffer!(&buffer)
        return bytes
    }
}

/// Borrow a string's UTF-8 bytes as (pointer, length) for a C call.
@inline(__always)
func withStringPointer<R>(_ string: String, _ body: (UnsafePointer<CChar>?, Int) throws -> R) rethrows -> R {
    var s = string
    return try s.withUTF8 { buf in try buf.withMemoryRebound(to: CChar.self) { try body($0.baseAddress, $0.count) } }
}

/// A string from a borrowed (pointer, length) pair; "" for NULL.
func borrowedString(_ p: UnsafePointer<CChar>?, _ len: Int) -> String {
    guard let p, len > 0 else { return "" }
    return p.withMemoryRebound(to: UInt8.self, capacity: len) { String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self) }
}

/// Bytes from a borrowed (pointer, length) pair; [] for NULL.
func borrowedBytes(_ p: UnsafeRawPointer?, _ len: Int) -> [UInt8] {
    guard let p, len > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: p, count: len))
}
