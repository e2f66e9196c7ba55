import CSon1kABI
import Foundation
import Son1kPluginKit
import Synchronization

/// A plugin running in the test process, on an in-memory host instead of the kernel: its
/// migrations applied to a private SQLite database, a clock that moves only when the test
/// moves it, published events captured, other plugins' services and hooks stubbed, outbound
/// HTTP answered by the test, and requests served without a socket.
///
/// ```swift
/// import Son1kPluginTesting
/// import Testing
///
/// @Test func countsAPlay() throws {
///     let host = try TestHost(PlaysPlugin.self)
///     #expect(host.request("POST", "/api/plays/g1", as: .user("u1")).status == 204)
///     #expect(try host.db.query("SELECT plays FROM plays_counts").first?["plays"].int == 1)
/// }
/// ```
///
/// The plugin's code runs exactly as under the kernel: the SDK talks to this host through
/// the same C function table, so the route table, auth levels, problems and transactions
/// behave as they do in production. What the host does not have is everything else: no
/// other plugins (stub the services and hooks it uses), no network (stub HTTP), no delivery
/// of actions unless the test asks (``deliverPublished()``).
///
/// Thread-safe: a test may drive one host from many tasks at once, as the kernel would.
public final class TestHost<P: Plugin>: @unchecked Sendable {
    /// The clock the plugin reads as `ctx.now`.
    public let clock: TestClock
    let state: HostState
    let driver: Driver<P>
    /// The configuration the plugin was set up with.
    private let config: P.Config
    private let router: RouteTable<Int>
    private let nextStream = Atomic<UInt64>(1)
    private let stopped = Atomic<Bool>(false)

    /// Load `P` with `config` the way the kernel does: its registrations checked, its
    /// migrations applied, `setUp` then `start` called. Throws what the kernel would refuse
    /// the plugin for (a registration mistake, a failing migration, `setUp` throwing).
    public init(_ type: P.Type, config: P.Config = P.Config(), clock: TestClock = TestClock()) throws {
        self.clock = clock
        self.config = config
        driver = Driver<P>()
        let manifest = driver.manifest
        guard manifest.problems.isEmpty else {
            throw PluginError(status: 500, code: "plugin_refused",
                              detail: "the plugin '\(manifest.name)' registered wrongly: \(manifest.problems.joined(separator: "; "))")
        }
        var router = RouteTable<Int>()
        for (index, route) in manifest.routes.enumerated() {
            try router.add(method: route.method, path: route.path, owner: manifest.name, target: index)
        }
        self.router = router
        let configJSON = try JSONValueEncoder.encode(config)
        let secrets = Set((manifest.configSchema["properties"].object ?? [:]).compactMap { name, schema in schema["x-secret"].bool == true ? name : nil })
        state = HostState(plugin: manifest.name, database: try MemoryDatabase(plugin: manifest.name), clock: clock,
                          configJSON: configJSON, secretFields: secrets)
        try state.database.migrate(P.migrations)
        try driver.setUp(host: TestHostFunctions.table, ctx: state.pointer, config: configJSON.bytes)
        let driver = self.driver
        let subscriptions = Set(manifest.subscriptions.filter { $0.kind == .hook }.map(\.topic))
        let services = Set(manifest.services)
        state.own.withLock {
            $0 = HostState.OwnHandlers(deliver: { try driver.deliver($0, txn: $1) }, hasHook: { subscriptions.contains($0) },
                                       answer: { try driver.answer($0, $1) }, offers: { services.contains($0) })
        }
        try driver.start()
    }

    deinit { stop() }

    /// Drain and stop the plugin (its background work ends). Called when the host goes away.
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        driver.drain()
        driver.stop()
    }

    /// The manifest the kernel would read: routes, subscriptions, services, config schema.
    public var manifest: Manifest { driver.manifest }

    /// A context on this host, as handlers receive it: seed or inspect the plugin's tables
    /// with `context.db`, or call the plugin's own domain types that take a context.
    public var context: Context<P.Config> {
        Context(config: config, host: HostBridge(api: TestHostFunctions.table, ctx: state.pointer))
    }

    /// The plugin's database (autocommit), with the plugin's own table-prefix rule.
    public var db: Database { context.db }

    // MARK: - Requests

    /// Serve one request as the kernel would: the route resolved (404/405 otherwise), its
    /// auth level and the `{user_id}` rule applied for `principal`, then the handler run.
    public func request(_ method: String, _ path: String, as principal: Principal? = nil, query: String = "",
                        headers: [String: String] = [:], body: [UInt8] = []) -> TestResponse {
        let match: RouteTable<Int>.Match
        switch router.resolve(method: method, path: path) {
        case .found(let found): match = found
        case .methodNotAllowed(let allow):
            return TestResponse(problem: PluginError(status: 405, code: "method_not_allowed", detail: "\(method) is not allowed on \(path).",
                                                     headers: ["Allow": allow.joined(separator: ", ")]))
        case .notFound:
            return TestResponse(problem: PluginError(status: 404, code: "route_not_found", detail: "No route matches \(method) \(path)."))
        }
        let spec = manifest.routes[match.target]
        do {
            try Authorizer.check(spec.auth, principal: principal, credentialsInvalid: false, params: match.params)
        } catch {
            return TestResponse(problem: error as? PluginError ?? PluginError(status: 500, code: "host_error", detail: "\(error)"))
        }
        if let limit = spec.maxBodyBytes, body.count > limit {
            return TestResponse(problem: PluginError(status: 413, code: "body_too_large", detail: "The body is \(body.count) bytes; this route takes at most \(limit)."))
        }
        var request = Request(method: method, path: path, rawQuery: query, params: Dictionary(match.params, uniquingKeysWith: { a, _ in a }),
                              headers: Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a }),
                              principal: principal, requestID: state.newID("req"), body: body)
        var handle: UInt64 = 0
        if spec.stream {
            handle = nextStream.add(1, ordering: .relaxed).oldValue
            request.streamWriter = driver.responseStream(handle)
        }
        let response = driver.serve(route: match.target, request)
        if handle != 0, let streamed = state.record.withLock({ $0.streams.removeValue(forKey: handle) }) {
            return TestResponse(status: streamed.status, headers: streamed.headers, body: streamed.body)
        }
        return TestResponse(status: response.status, headers: response.headers, body: response.body)
    }

    /// Serve one request with `body` encoded as JSON (snake_case, as clients send it).
    public func request<Body: Encodable>(_ method: String, _ path: String, as principal: Principal? = nil, query: String = "",
                                         headers: [String: String] = [:], json body: Body) throws -> TestResponse {
        var headers = headers
        headers["content-type"] = headers["content-type"] ?? "application/json"
        return request(method, path, as: principal, query: query, headers: headers, body: try JSONValueEncoder.encode(body).bytes)
    }

    // MARK: - Events

    /// Deliver an action to the plugin's subscriber, as the kernel does after the publisher
    /// commits. A thrown error is what makes the kernel retry the delivery.
    public func deliver<T>(_ topic: Topic<T>, _ payload: T, userID: String? = nil, id: String? = nil) throws {
        try deliver(topic.name, data: try JSONValueEncoder.encode(payload), userID: userID, id: id)
    }

    /// Deliver an action whose payload is given as raw JSON: for payloads no type can hold,
    /// such as one that lacks a field. A `transactional` subscriber runs inside a transaction,
    /// as the kernel's delivery does: what it wrote is rolled back when it throws.
    public func deliver(_ topic: String, data: JSONValue, userID: String? = nil, id: String? = nil) throws {
        let event = Event(id: id ?? state.newID("evt"), topic: topic, kind: .action, occurredAt: clock.now.iso8601, userID: userID, data: data)
        guard driver.manifest.subscriptions.contains(where: { $0.kind == .action && $0.topic == topic && $0.transactional }) else {
            _ = try driver.deliver(event, txn: 0)
            return
        }
        try inTransaction { txn in _ = try driver.deliver(event, txn: txn) }
    }

    /// Run the plugin's subscriber of a hook inside a transaction of its own, as if another
    /// plugin published it: returns the payload as the subscriber left it; a veto is thrown
    /// (and the transaction rolled back).
    public func publishHook<T>(_ topic: Topic<T>, _ payload: T, userID: String? = nil) throws -> T {
        try inTransaction { txn in
            let event = Event(id: state.newID("evt"), topic: topic.name, kind: .hook, occurredAt: clock.now.iso8601, userID: userID,
                              data: try JSONValueEncoder.encode(payload))
            if case .replace(let data) = try driver.deliver(event, txn: txn) { return try JSONValueDecoder.decode(T.self, from: data) }
            return payload
        }
    }

    /// Run `body` in a transaction of the test database: committed (with the actions it
    /// published) when it returns, rolled back when it throws.
    private func inTransaction<R>(_ body: (UInt64) throws -> R) throws -> R {
        let txn = try state.database.begin()
        do {
            let result = try body(txn)
            try state.database.commit(txn)
            state.committed(txn)
            return result
        } catch {
            state.database.rollback(txn)
            state.rolledBack(txn)
            throw error
        }
    }

    /// Every event the plugin published (actions once their transaction committed), in order.
    public var published: [PublishedEvent] { state.record.withLock { $0.published } }

    /// The payloads the plugin published on `topic`, decoded as its type, in order.
    public func published<T>(_ topic: Topic<T>) throws -> [T] {
        try published.filter { $0.topic == topic.name }.map { try JSONValueDecoder.decode(T.self, from: $0.data) }
    }

    /// Deliver the actions the plugin published so far to its own subscribers (the ones it
    /// publishes and consumes itself, such as scheduled topics), then forget them.
    public func deliverPublished() throws {
        let events = state.record.withLock { r in
            defer { r.published.removeAll() }
            return r.published.filter { $0.kind == .action }
        }
        for event in events { try deliver(event.topic, data: event.data, userID: event.userID, id: event.id) }
    }

    /// The schedules the plugin asked for in `start`.
    public var schedules: [Schedule] { state.record.withLock { $0.schedules } }

    /// Deliver a scheduled topic once, as the kernel's scheduler does every period.
    public func runSchedule(_ topic: String) throws {
        try deliver(topic, data: .object([:]))
    }

    // MARK: - Services

    /// Call one of the plugin's own services, typed.
    public func call<I, O>(_ service: Service<I, O>, _ input: I) throws -> O {
        try JSONValueDecoder.decode(O.self, from: driver.answer(service.name, try JSONValueEncoder.encode(input)))
    }

    /// Answer calls the plugin makes to another plugin's service.
    public func stub<I, O>(_ service: Service<I, O>, _ answer: @escaping @Sendable (I) throws -> O) {
        state.stubs.withLock {
            $0.services[service.name] = { input in try JSONValueEncoder.encode(try answer(try JSONValueDecoder.decode(I.self, from: input))) }
        }
    }

    /// Answer calls to a service no type describes (a kernel service, a C plugin's).
    public func stub(service name: String, _ answer: @escaping @Sendable (JSONValue) throws -> JSONValue) {
        state.stubs.withLock { $0.services[name] = answer }
    }

    /// Subscribe, as another plugin would, to a hook the plugin publishes: return
    /// `.replace(payload)` to change it or throw a ``PluginError`` to veto.
    public func stub<T>(hook topic: Topic<T>, _ subscriber: @escaping @Sendable (T) throws -> TypedHookOutcome<T>) {
        state.stubs.withLock {
            $0.hooks[topic.name] = { event in
                switch try subscriber(try JSONValueDecoder.decode(T.self, from: event.data)) {
                case .continue: return .continue
                case .replace(let payload): return .replace(try JSONValueEncoder.encode(payload))
                }
            }
        }
    }

    // MARK: - Outbound HTTP

    /// Answer the plugin's outbound requests (those its `egress_hosts` allow; others are
    /// refused with 403 as the kernel does, before the stub is asked).
    public func stubHTTP(_ answer: @escaping @Sendable (HTTPClient.Request) throws -> HTTPClient.Response) {
        state.stubs.withLock { $0.http = answer }
    }

    /// The outbound requests the plugin made, in order.
    public var httpRequests: [HTTPClient.Request] { state.record.withLock { $0.httpRequests } }

    // MARK: - Jobs

    /// The jobs the plugin enqueued, in order. The test host runs no queue: call the worker's
    /// rules with these arguments, and test the queue end to end against a kernel.
    public var enqueuedJobs: [EnqueuedJob] { state.record.withLock { $0.jobs } }

    /// The arguments of the jobs of one kind the plugin enqueued, decoded.
    public func enqueued<Args: JobArgs>(_ type: Args.Type) throws -> [Args] {
        try enqueuedJobs.filter { $0.kind == Args.kind }.map { try JSONValueDecoder.decode(Args.self, from: $0.args) }
    }

    // MARK: - What else the plugin did

    public var logs: [LogLine] { state.record.withLock { $0.logs } }
    public var metrics: [RecordedMetric] { state.record.withLock { $0.metrics } }

    /// The bytes and metadata of a blob the plugin stored.
    public func blob(_ id: String) throws -> (info: BlobInfo, bytes: [UInt8]) {
        let blob = try state.blob(id)
        return (try JSONValueDecoder.decode(BlobInfo.self, from: blob.meta), blob.bytes)
    }
}
