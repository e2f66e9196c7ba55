import CSon1kABI
import Foundation

/// Everything a handler may use: typed config, the database, events, services, outbound
/// HTTP, blobs, logs and metrics. Handed to every route, event and service handler.
///
/// A `Context` is a value; it is safe to use from the handler's thread and to capture.
public struct Context<Config: PluginConfig>: Sendable {
    /// The plugin's configuration, validated by the kernel and with defaults applied.
    public let config: Config
    let host: HostBridge
    let txn: UInt64

    // One shared reference, and the facades built on access: copying a context per request
    // then costs one reference count, not one per facade (they all point at the same bridge,
    // so each count is contended across threads).

    /// Autocommit database access; inside a hook handler, the publisher's transaction.
    public var db: Database { Database(host: host, txn: txn) }
    /// Log lines tagged with the plugin's name.
    public var log: Log { Log(host: host) }
    /// Counters, gauges and histograms exported at `/metrics`.
    public var metrics: Metrics { Metrics(host: host) }
    /// Outbound HTTP, to the hosts `egress_hosts` allows.
    public var http: HTTPClient { HTTPClient(host: host) }
    /// Files (audio, uploads) stored by content, served at `/api/blobs/{id}`.
    public var blobs: Blobs { Blobs(host: host) }
    /// The kernel's job queue: enqueue work for the plugin's workers (inside a hook or job
    /// change handler, in the transaction it is bound to).
    public var jobs: JobQueue { JobQueue(host: host, txn: txn) }

    package init(config: Config, host: HostBridge, txn: UInt64 = 0) {
        self.config = config
        self.host = host
        self.txn = txn
    }

    /// Publish a hook: subscribers run now, in order, inside `tx`'s transaction (or in
    /// their own when `tx` is nil). Returns the payload as they left it. A veto is thrown
    /// as ``PluginError``; let it propagate so the transaction rolls back and the client
    /// receives the subscriber's status.
    @discardableResult
    func publishHook<T: Encodable>(_ topic: String, _ data: T, userID: String? = nil, in tx: Database? = nil) throws -> JSONValue {
        try publishHookIfChanged(topic, data, userID: userID, in: tx) ?? JSONValue.from(data)
    }

    /// The payload as the hook's subscribers left it, or nil when the kernel answered nothing:
    /// no subscriber, so nothing to decode again.
    func publishHookIfChanged<T: Encodable>(_ topic: String, _ data: T, userID: String?, in tx: Database?) throws -> JSONValue? {
        let out = try publish(SON1K_EVENT_HOOK, topic, data, userID, tx)
        // Not a ternary: JSONValue takes `nil` as a literal, which would read as JSON null.
        guard !out.isEmpty else { return nil }
        return try JSONValue.parse(out)["data"]
    }

    /// Publish an action: recorded in the outbox inside `tx` (delivered once it commits) or
    /// on its own when `tx` is nil. Returns the event id.
    @discardableResult
    func publishAction<T: Encodable>(_ topic: String, _ data: T, userID: String? = nil, in tx: Database? = nil) throws -> String {
        let out = try publish(SON1K_EVENT_ACTION, topic, data, userID, tx)
        return try JSONValue.parse(out)["id"].string ?? ""
    }

    private func publish<T: Encodable>(_ kind: Int, _ topic: String, _ data: T, _ userID: String?, _ tx: Database?) throws -> [UInt8] {
        var payload: JSONValue = ["data": try JSONValue.from(data)]
        if let userID { payload["user_id"] = .string(userID) }
        let text = payload.jsonString
        let txn = tx?.txn ?? 0
        return try host.call { ctx, out in
            withUTF8Pointer(topic) { t, tl in
                withUTF8Pointer(text) { p, pl in host.api.pointee.publish!(ctx, txn, Int32(kind), t, tl, p, pl, out) }
            }
        }
    }

    /// Call a service another plugin offers (`requires` it so it is loaded first).
    func call<In: Encodable>(_ service: String, _ input: In) throws -> JSONValue {
        try host.callService(service, JSONValue.from(input))
    }

    /// Ask the kernel to publish the action `topic` every `seconds`. Call from `start`.
    public func schedule(every seconds: Int, topic: String) throws {
        _ = try host.call { ctx, out in
            withUTF8Pointer(topic) { t, tl in host.api.pointee.schedule!(ctx, UInt32(seconds), t, tl, out) }
        }
    }

    /// A secret from the config (a field declared with ``ConfigConstraint/secret(_:)``).
    public func secret(_ name: String) throws -> String {
        let out = try host.call { ctx, out in
            withUTF8Pointer(name) { n, nl in host.api.pointee.secret_get!(ctx, n, nl, out) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The kernel's clock.
    public var now: Date {
        Date(timeIntervalSince1970: Double(host.api.pointee.now_ms!(host.ctx)) / 1000)
    }

    /// This context, with `db` bound to a hook publisher's transaction.
    func bound(to txn: UInt64) -> Context { Context(config: config, host: host, txn: txn) }
}
