/// Where a plugin declares its routes, event handlers and services. The kernel learns them
/// from the manifest built out of this registry; the handlers stay inside the plugin.
///
/// ```swift
/// func register(_ r: inout Registry<Config>) {
///     r.get("/api/hello/{name}", auth: .public, summary: "Greet someone") { req, ctx in
///         try .json(["message": "\(ctx.config.greeting), \(req.param("name"))"])
///     }
///     r.onAction(Topic.generationCompleted) { event, ctx in /* event.payload is typed */ }
/// }
/// ```
///
/// Handlers run on the kernel's plugin threads, concurrently: anything they share must be
/// thread-safe (the database is).
public struct Registry<Config: PluginConfig> {
    /// An untyped route's handler: the request and the context in, the response out.
    public typealias RouteHandler = @Sendable (Request, Context<Config>) throws -> Response
    // The untyped forms below are what typed registrations (``Topic``, ``Service``) compile
    // to; authors only see the typed ones, so every payload has a type that says its shape.
    typealias HookHandler = @Sendable (Event, Context<Config>) throws -> HookOutcome
    typealias ActionHandler = @Sendable (Event, Context<Config>) throws -> Void
    typealias ServiceHandler = @Sendable (JSONValue, Context<Config>) throws -> JSONValue

    var routes: [(spec: RouteSpec, handler: RouteHandler)] = []
    var hooks: [String: (spec: SubscriptionSpec, handler: HookHandler)] = [:]
    var actions: [String: (spec: SubscriptionSpec, handler: ActionHandler)] = [:]
    var services: [String: ServiceHandler] = [:]
    typealias JobHandler = @Sendable (JobInfo, Context<Config>) throws -> Void
    typealias JobChangeHandler = @Sendable (String, JobInfo, Context<Config>) throws -> Void
    /// The kinds of job declared, per queue (see Registry+Jobs).
    var jobSpecs: [JobSpec] = []
    var jobWorkers: [String: (concurrency: @Sendable (Config) -> Int, handler: JobHandler)] = [:]
    var jobChanges: [String: JobChangeHandler] = [:]
    /// Mistakes made while registering (a registration that replaced an earlier one, a schema
    /// rule naming a field its type lacks): reported in the manifest, so the kernel refuses the
    /// plugin instead of one handler silently winning.
    var problems: [String] = []

    init() {}

    /// Declare a route. `path` uses `{name}` parameters; `request`/`response` are JSON
    /// Schemas shown in /openapi.json; `status` is the documented success status;
    /// `maxBodyBytes` raises or lowers the kernel's body limit for this route alone.
    /// `mayWait: true` says the handler may spend most of its time waiting (a long poll, a batch
    /// it joins, a slow upstream): the kernel then gives it a thread of its own. `stream: true`
    /// lets the handler stream its response with ``Request/startStream(status:headers:)``.
    /// `produces` names the success answer's media type when it is not JSON (`audio/wav`).
    public mutating func route(_ method: String, _ path: String, auth: AuthLevel, summary: String, description: String? = nil,
                               request: JSONValue? = nil, response: JSONValue? = nil, status: Int? = nil, maxBodyBytes: Int? = nil,
                               mayWait: Bool = false, stream: Bool = false, produces: String? = nil, mayAnswerEmpty: Bool = false,
                               _ handler: @escaping RouteHandler) {
        let spec = RouteSpec(method: method, path: path, auth: auth, summary: summary, description: description,
                             requestSchema: request, responseSchema: response, successStatus: status, maxBodyBytes: maxBodyBytes,
                             mayWait: mayWait, stream: stream, responseContentType: produces, mayAnswerEmpty: mayAnswerEmpty)
        routes.append((spec, handler))
    }

    /// A GET route; see ``route(_:_:auth:summary:description:request:response:status:maxBodyBytes:mayWait:stream:produces:_:)``.
    public mutating func get(_ path: String, auth: AuthLevel, summary: String, description: String? = nil,
                             response: JSONValue? = nil, mayWait: Bool = false, produces: String? = nil, _ handler: @escaping RouteHandler) {
        route("GET", path, auth: auth, summary: summary, description: description, response: response, mayWait: mayWait,
              produces: produces, handler)
    }

    /// A POST route.
    public mutating func post(_ path: String, auth: AuthLevel, summary: String, description: String? = nil,
                              request: JSONValue? = nil, response: JSONValue? = nil, status: Int? = nil, maxBodyBytes: Int? = nil,
                              mayWait: Bool = false, stream: Bool = false, _ handler: @escaping RouteHandler) {
        route("POST", path, auth: auth, summary: summary, description: description, request: request, response: response,
              status: status, maxBodyBytes: maxBodyBytes, mayWait: mayWait, stream: stream, handler)
    }

    /// A PUT route.
    public mutating func put(_ path: String, auth: AuthLevel, summary: String, description: String? = nil,
                             request: JSONValue? = nil, response: JSONValue? = nil, status: Int? = nil, maxBodyBytes: Int? = nil,
                             _ handler: @escaping RouteHandler) {
        route("PUT", path, auth: auth, summary: summary, description: description, request: request, response: response,
              status: status, maxBodyBytes: maxBodyBytes, handler)
    }

    /// A PATCH route.
    public mutating func patch(_ path: String, auth: AuthLevel, summary: String, description: String? = nil,
                               request: JSONValue? = nil, response: JSONValue? = nil, _ handler: @escaping RouteHandler) {
        route("PATCH", path, auth: auth, summary: summary, description: description, request: request, response: response, handler)
    }

    /// A DELETE route.
    public mutating func delete(_ path: String, auth: AuthLevel, summary: String, description: String? = nil,
                                _ handler: @escaping RouteHandler) {
        route("DELETE", path, auth: auth, summary: summary, description: description, handler)
    }

    /// Subscribe to a hook: run inside the publisher's transaction (`ctx.db` is bound to
    /// it). Return `.replace(data)` to change the payload, throw ``PluginError`` to veto.
    /// Order among subscribers: `before`/`after` (plugin names), then `priority` (lower
    /// first), then plugin name.
    mutating func onHook(_ topic: String, priority: Int = 0, before: [String] = [], after: [String] = [],
                                _ handler: @escaping HookHandler) {
        if hooks[topic] != nil { problems.append("the hook handler for '\(topic)' is registered twice") }
        hooks[topic] = (SubscriptionSpec(topic: topic, kind: .hook, priority: priority, before: before, after: after), handler)
    }

    /// Subscribe to an action: delivered after the publisher committed, at least once
    /// (use `event.id` to stay idempotent). Throw to have it retried with backoff.
    ///
    /// `transactional`: the handler runs inside the kernel's delivery transaction (`ctx.db`
    /// is bound to it, and `ctx.db.transaction` joins it), which also records the delivery:
    /// its writes and the delivered mark commit together, so a handler that returns is never
    /// run again for that event, and one that throws leaves no write behind. Many deliveries
    /// share one commit, so this is also the cheap way to deliver. The database's writer is
    /// held meanwhile: keep such a handler to database work (no outbound calls, no blobs).
    ///
    /// `isolation` is that transaction's level (see ``Isolation``): `.readCommitted` when every
    /// decision the handler makes is one conditional statement (`… WHERE status = 'reserved'`,
    /// an upsert, `n = n + 1`). On PostgreSQL the deliveries of several instances then meet on
    /// row locks instead of aborting one another's batches.
    mutating func onAction(_ topic: String, transactional: Bool = false, isolation: Isolation = .serializable,
                           _ handler: @escaping ActionHandler) {
        if actions[topic] != nil { problems.append("the action handler for '\(topic)' is registered twice") }
        if isolation != .serializable, !transactional { problems.append("the action handler for '\(topic)' names an isolation but is not transactional") }
        actions[topic] = (SubscriptionSpec(topic: topic, kind: .action, transactional: transactional, isolation: isolation), handler)
    }

    /// Offer a service other plugins reach with `ctx.call(name, input)`.
    mutating func service(_ name: String, _ handler: @escaping ServiceHandler) {
        if services[name] != nil { problems.append("the service '\(name)' is registered twice") }
        services[name] = handler
    }
}
