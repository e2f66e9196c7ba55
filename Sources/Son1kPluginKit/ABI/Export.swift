import CSon1kABI
import Foundation

/// Build this plugin's C function table. Call it from the plugin's only exported symbol:
///
/// ```swift
/// @_cdecl("son1k_plugin_entry")
/// public func son1kPluginEntry() -> UnsafeRawPointer { export(HelloPlugin.self) }
/// ```
///
/// The table, the manifest and the plugin instance live for the rest of the process
/// (the kernel never unloads a plugin). Calling `export` again returns the same table.
public func export<P: Plugin>(_ type: P.Type) -> UnsafeRawPointer {
    exportLock.lock()
    defer { exportLock.unlock() }
    if let table = exportedTable { return UnsafeRawPointer(table) }
    let driver = Driver<P>()
    activeDriver = driver
    let table = UnsafeMutablePointer<son1k_plugin_api_t>.allocate(capacity: 1)
    table.initialize(to: son1k_plugin_api_t(
        abi_version: UInt32(SON1K_ABI_MAJOR << 16 | SON1K_ABI_MINOR),
        struct_size: UInt32(MemoryLayout<son1k_plugin_api_t>.size),
        build_info: UnsafePointer(strdup(BuildInfo.swiftCompiler)),
        manifest: UnsafePointer(strdup(driver.manifestJSON)),
        manifest_len: driver.manifestJSON.utf8.count,
        init: { host, ctx, config, configLen, err in
            activeDriver!.initialize(host: host!, ctx: ctx!, config: config, configLen: configLen, err: err!)
        },
        start: { err in activeDriver!.start(err: err!) },
        handle_request: { req, resp in activeDriver!.handleRequest(req!, resp!) },
        handle_event: { topic, topicLen, envelope, envelopeLen, txn, out in
            activeDriver!.handleEvent(string(topic, topicLen), envelope, envelopeLen, txn, out!)
        },
        handle_call: { service, serviceLen, input, inputLen, out in
            activeDriver!.handleCall(string(service, serviceLen), input, inputLen, out!)
        },
        stop: { activeDriver!.stop() },
        free_buffer: { buffer in
            guard let buffer else { return }
            free(buffer.pointee.data)
            buffer.pointee = son1k_buffer_t(data: nil, len: 0)
        },
        drain: { activeDriver!.drain() },
        handle_job: { envelope, envelopeLen, txn, out in activeDriver!.handleJob(envelope, envelopeLen, txn, out!) }
    ))
    exportedTable = table
    return UnsafeRawPointer(table)
}

// Written once under `exportLock` by `export`, before the kernel can call anything else;
// read-only afterwards. Each plugin embeds its own copy of this module, so these globals
// are per plugin.
nonisolated(unsafe) private var activeDriver: (any PluginDriver)?
nonisolated(unsafe) private var exportedTable: UnsafeMutablePointer<son1k_plugin_api_t>?
private let exportLock = NSLock()

/// The type-erased face of ``Driver`` that the C entry points call.
protocol PluginDriver: AnyObject, Sendable {
    func initialize(host: UnsafePointer<son1k_host_api_t>, ctx: OpaquePointer, config: UnsafePointer<CChar>?, configLen: Int,
                    err: UnsafeMutablePointer<son1k_buffer_t>) -> son1k_status_t
    func start(err: UnsafeMutablePointer<son1k_buffer_t>) -> son1k_status_t
    func handleRequest(_ req: UnsafePointer<son1k_request_t>, _ resp: UnsafeMutablePointer<son1k_response_t>) -> son1k_status_t
    func handleEvent(_ topic: String, _ envelope: UnsafePointer<CChar>?, _ len: Int, _ txn: UInt64,
                     _ out: UnsafeMutablePointer<son1k_buffer_t>) -> son1k_status_t
    func handleCall(_ service: String, _ input: UnsafePointer<CChar>?, _ len: Int, _ out: UnsafeMutablePointer<son1k_buffer_t>) -> son1k_status_t
    func handleJob(_ envelope: UnsafePointer<CChar>?, _ len: Int, _ txn: UInt64, _ out: UnsafeMutablePointer<son1k_buffer_t>) -> son1k_status_t
    func drain()
    func stop()
}

/// Adapts one ``Plugin`` type to the C ABI. The C functions call its Swift-level entry points
/// (`setUp`, `serve`, `deliver`, `answer`), which are also what Son1kPluginTesting drives.
package final class Driver<P: Plugin>: PluginDriver, @unchecked Sendable {
    let plugin: P
    let registry: Registry<P.Config>
    /// The manifest as the kernel reads it: routes, subscriptions, services, schema, problems.
    package let manifest: Manifest
    let manifestJSON: String
    /// Set once by `initialize`, which the kernel calls before any handler.
    private var context: Context<P.Config>?
    /// The route handlers with the context bound, built once by `initialize`: serving a
    /// request is then an array lookup and a call, with no generic type lookups per request.
    private var routeHandlers: [@Sendable (Request) throws -> Response] = []

    package init() {
        plugin = P()
        var r = Registry<P.Config>()
        plugin.register(&r)
        registry = r
        var manifest = P.manifest
        manifest.configSchema = ConfigCoding.schema(P.Config.self)
        manifest.routes = r.routes.map(\.spec)
        manifest.subscriptions = (r.hooks.values.map(\.spec) + r.actions.values.map(\.spec)).sorted { ($0.topic, $0.kind.rawValue) < ($1.topic, $1.kind.rawValue) }
        manifest.services = r.services.keys.sorted()
        manifest.migrations = P.migrations
        manifest.jobs = r.jobSpecs
        manifest.problems = r.problems + ConfigCoding.problems(P.Config.self)
        self.manifest = manifest
        manifestJSON = (try? JSONValue.from(manifest).jsonString) ?? "{}"
    }

    func initialize(host: UnsafePointer<son1k_host_api_t>, ctx: OpaquePointer, config: UnsafePointer<CChar>?, configLen: Int,
                    err: UnsafeMutablePointer<son1k_buffer_t>) -> son1k_status_t {
        do {
            let bytes = config.map { Array(UnsafeRawBufferPointer(start: $0, count: configLen)) } ?? []
            try setUp(host: host, ctx: ctx, config: bytes)
            return Int32(SON1K_OK)
        } catch {
            err.pointee = pluginBuffer(Array("\(error)".utf8))
            return Int32(SON1K_ERR_FAILED)
        }
    }

    /// Decode the config, build the context on `host` and run the plugin's `setUp`.
    package func setUp(host: UnsafePointer<son1k_host_api_t>, ctx: OpaquePointer, config bytes: [UInt8]) throws {
        let bridge = HostBridge(api: host, ctx: ctx)
        let cfg = try ConfigCoding.decode(P.Config.self, from: bytes)
        let context = Context(config: cfg, host: bridge)
        try plugin.setUp(context)
        self.context = context
        routeHandlers = registry.routes.map { route in
            let handler = route.handler
            return { request in try handler(request, context) }
        }
    }

    func start(err: UnsafeMutablePointer<son1k_buffer_t>) -> son1k_status_t {
        do {
            try start()
            return Int32(SON1K_OK)
        } catch {
            err.pointee = pluginBuffer(Array("\(error)".utf8))
            return Int32(SON1K_ERR_FAILED)
        }
    }

    /// The plugin's `start`, then the kernel-run workers it registered, as many as its config says.
    package func start() throws {
        guard let context else { throw Self.notSetUp }
        try plugin.start(context)
        for spec in registry.jobSpecs where spec.worker {
            guard let worker = registry.jobWorkers[spec.kind] else { continue }
            let concurrency = worker.concurrency(context.config)
            guard concurrency > 0 else { continue }
            _ = try context.jobs.raw("run", ["kind": .string(spec.kind), "queue": .string(spec.queue),
                                             "concurrency": .integer(Int64(concurrency))], txn: 0)
        }
    }

    func handleRequest(_ req: UnsafePointer<son1k_request_t>, _ resp: UnsafeMutablePointer<son1k_response_t>) -> son1k_status_t {
        let r = req.pointee
        var request = requestValue(from: r)
        // `stream` exists from ABI 1.1; an older kernel's shorter request has no such field.
        if Int(r.struct_size) >= MemoryLayout<son1k_request_t>.offset(of: \.stream)! + MemoryLayout<UInt64>.size, r.stream != 0 {
            request.streamWriter = responseStream(r.stream)
        }
        writeResponse(serve(route: Int(r.route_index), request), to: resp)
        return Int32(SON1K_OK)
    }

    /// A writer for the stream handle the kernel gave a request, when its host can stream.
    package func responseStream(_ handle: UInt64) -> ResponseStreamWriter? {
        guard let host = context?.host, host.function(\.response_stream) != nil else { return nil }
        return ResponseStreamWriter(host: host, handle: handle)
    }

    /// Run the handler of route `index` (an index into the manifest's routes); a thrown
    /// ``PluginError`` becomes its problem, anything else a 500 naming the plugin.
    package func serve(route index: Int, _ request: Request) -> Response {
        guard routeHandlers.indices.contains(index) else {
            return .problem(PluginError(status: 404, code: "route_not_found", detail: "The plugin has no such route."))
        }
        do {
            return try routeHandlers[index](request)
        } catch let error as PluginError {
            return .problem(error)
        } catch {
            context?.log.error("\(request.method) \(request.path) failed: \(error)")
            return .problem(PluginError(status: 500, code: "plugin_error",
                                        detail: "The plugin '\(P.manifest.name)' failed to handle the request."))
        }
    }

    func handleEvent(_ topic: String, _ envelope: UnsafePointer<CChar>?, _ len: Int, _ txn: UInt64,
                     _ out: UnsafeMutablePointer<son1k_buffer_t>) -> son1k_status_t {
        do {
            let bytes = envelope.map { Array(UnsafeRawBufferPointer(start: $0, count: len)) } ?? []
            let event = try JSONValueDecoder.decode(Event.self, from: JSONValue.parse(bytes))
            if case .replace(let data) = try deliver(event, txn: txn) {
                out.pointee = pluginBuffer((["data": data] as JSONValue).bytes)
            }
            return Int32(SON1K_OK)
        } catch let error as PluginError {
            out.pointee = pluginBuffer(Array((try? JSONEncoder().encode(error)) ?? Data()))
            return Int32(SON1K_VETO)
        } catch {
            out.pointee = pluginBuffer(Array("\(error)".utf8))
            return Int32(SON1K_ERR_FAILED)
        }
    }

    /// Hand an event to the plugin's subscriber of its topic, if it has one. A hook runs
    /// with `db` bound to the publisher's transaction `txn`, a transactional action to the
    /// delivery's (otherwise `txn` is 0); an action returns `.continue`.
    package func deliver(_ event: Event, txn: UInt64) throws -> HookOutcome {
        guard let context else { throw Self.notSetUp }
        switch event.kind {
        case .hook:
            guard let hook = registry.hooks[event.topic] else { return .continue }
            return try hook.handler(event, context.bound(to: txn))
        case .action:
            try registry.actions[event.topic]?.handler(event, txn == 0 ? context : context.bound(to: txn))
            return .continue
        }
    }

    func handleCall(_ service: String, _ input: UnsafePointer<CChar>?, _ len: Int, _ out: UnsafeMutablePointer<son1k_buffer_t>) -> son1k_status_t {
        guard context != nil, registry.services[service] != nil else { return Int32(SON1K_ERR_NOT_FOUND) }
        do {
            let bytes = input.map { Array(UnsafeRawBufferPointer(start: $0, count: len)) } ?? []
            out.pointee = pluginBuffer(try answer(service, bytes.isEmpty ? .null : JSONValue.parse(bytes)).bytes)
            return Int32(SON1K_OK)
        } catch {
            let problem = error as? PluginError ?? Self.serviceFailure(service, error)
            out.pointee = pluginBuffer(Array((try? JSONEncoder().encode(problem)) ?? Data()))
            return Int32(SON1K_ERR_FAILED)
        }
    }

    /// Answer a call to one of the plugin's services; an unexpected error becomes a 500
    /// ``PluginError`` naming the service.
    package func answer(_ service: String, _ input: JSONValue) throws -> JSONValue {
        guard let context else { throw Self.notSetUp }
        guard let handler = registry.services[service] else {
            throw PluginError(status: 404, code: "service_not_found", detail: "The plugin '\(P.manifest.name)' offers no service '\(service)'.")
        }
        do { return try handler(input, context) } catch let error as PluginError { throw error } catch { throw Self.serviceFailure(service, error) }
    }

    static func serviceFailure(_ service: String, _ error: any Error) -> PluginError {
        PluginError(status: 500, code: "service_failed", detail: "The service '\(service)' failed: \(error)")
    }

    static var notSetUp: PluginError { PluginError(status: 500, code: "plugin_not_set_up", detail: "The plugin '\(P.manifest.name)' was not set up.") }

    func handleJob(_ envelope: UnsafePointer<CChar>?, _ len: Int, _ txn: UInt64, _ out: UnsafeMutablePointer<son1k_buffer_t>) -> son1k_status_t {
        let bytes = envelope.map { Array(UnsafeRawBufferPointer(start: $0, count: len)) } ?? []
        let outcome: JobOutcome
        do {
            let parsed = try JSONValue.parse(bytes)
            let info = try JSONValueDecoder.decode(JobInfo.self, from: parsed["job"])
            if parsed["phase"].string == "changed" {
                outcome = try changed(info, cause: parsed["cause"].string ?? "", txn: txn)
            } else {
                outcome = work(info)
            }
        } catch let error as PluginError where error.code == ConflictRetry.code {
            // The change's transaction conflicted with another (PostgreSQL): nothing of it
            // stays, and the kernel runs it again.
            var answer = JobOutcome.failed(error.detail, retryable: true).json ?? [:]
            answer["conflict"] = true
            out.pointee = pluginBuffer(answer.bytes)
            return Int32(SON1K_ERR_FAILED)
        } catch {
            outcome = .failed("\(error)", retryable: true)
        }
        guard let answer = outcome.json else { return Int32(SON1K_OK) }
        out.pointee = pluginBuffer(answer.bytes)
        return Int32(SON1K_ERR_FAILED)
    }

    /// Run the worker of a leased job's kind: what became of the attempt.
    package func work(_ job: JobInfo) -> JobOutcome {
        guard let context else { return .failed(Self.notSetUp.detail, retryable: true) }
        guard let worker = registry.jobWorkers[job.kind] else {
            return .failed("The plugin '\(P.manifest.name)' has no worker for jobs of kind '\(job.kind)'.", retryable: false)
        }
        do {
            try worker.handler(job, context)
            return .done
        } catch let error as JobError {
            switch error {
            case .postpone(let after, let reason): return .postponed(reason, after: after)
            case .fail(let message, let retryable): return .failed(message, retryable: retryable)
            case .stopped(let reason): return .stopped(reason)
            }
        } catch let error as PluginError {
            return .failed(error.detail, retryable: error.status >= 500 || error.code == ConflictRetry.code)
        } catch {
            return .failed("\(error)", retryable: true)
        }
    }

    /// Tell the plugin's change handler of a job's change, inside the change's transaction.
    package func changed(_ job: JobInfo, cause: String, txn: UInt64) throws -> JobOutcome {
        guard let context else { throw Self.notSetUp }
        try registry.jobChanges[job.kind]?(cause, job, context.bound(to: txn))
        return .done
    }

    package func drain() { plugin.drain() }
    package func stop() { plugin.stop() }

}

/// Fill the C response from a Swift one (plugin-owned buffers). Not generic: it runs per request.
func writeResponse(_ response: Response, to resp: UnsafeMutablePointer<son1k_response_t>) {
    var headerText = ""
    for (name, value) in response.headers { headerText += "\(name): \(value)\n" }
    resp.pointee = son1k_response_t(status: Int32(response.status), headers: pluginBuffer(Array(headerText.utf8)),
                                    body: pluginBuffer(response.body))
}

/// The Swift view of a C request. Not generic: it runs per request.
func requestValue(from r: son1k_request_t) -> Request {
    var params: [String: String] = [:]
    for i in 0..<r.params_count { params[string(r.params[i].name)] = string(r.params[i].value) }
    var headers: [String: String] = [:]
    headers.reserveCapacity(r.headers_count)
    for i in 0..<r.headers_count { headers[string(r.headers[i].name)] = string(r.headers[i].value) }
    let principalID = string(r.principal_id)
    let principal = principalID.isEmpty ? nil : Principal(
        id: principalID, role: string(r.principal_role), kind: Principal.Kind(rawValue: string(r.principal_kind)) ?? .user)
    let body = r.body.map { Array(UnsafeBufferPointer(start: $0, count: r.body_len)) } ?? []
    return Request(method: string(r.method), path: string(r.path), rawQuery: string(r.query), params: params,
                   headers: headers, principal: principal, requestID: string(r.request_id), body: body)
}
