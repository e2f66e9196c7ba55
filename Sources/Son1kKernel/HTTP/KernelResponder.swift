import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Son1kPluginKit

/// The one HTTP responder: every request, kernel or plugin, goes through the same steps.
///
/// 1. request id (the client's `X-Request-Id` when sane, otherwise a new one) and CORS
///    (``CORSPolicy``: `OPTIONS` answers preflights for every path, from its routes' methods);
/// 2. routing: 404 for an unknown path, 405 with `Allow` for a known path and wrong method;
/// 3. the body, collected up to the configured limit (413 beyond it);
/// 4. on a handler thread (see ``HandlerExecutor``), off the event loops and the cooperative pool: credentials → principal, the route's
///    auth level and the `{user_id}` rule (401/403), then the handler;
/// 5. errors become `application/problem+json`; a client's mistake is never a 500.
struct KernelResponder: HTTPResponder {
    typealias Context = KernelRequestContext

    let kernel: Kernel
    let router: RouteTable<RouteTarget>

    func respond(to request: Hummingbird.Request, context: Context) async throws -> Hummingbird.Response {
        let started = ContinuousClock.now
        let requestID = Self.requestID(request.headers[.init("x-request-id")!])
        var pattern = "unmatched"
        var response: Hummingbird.Response
        if request.method == .options, case .methodNotAllowed(let allow) = router.resolve(method: "OPTIONS", path: request.uri.path) {
            // No route declares OPTIONS: it asks which methods the path accepts, or is a preflight.
            response = CORSPolicy.isPreflight(request)
                ? kernel.cors.preflight(request, methods: allow)
                : Hummingbird.Response(status: .noContent, headers: [.allow: (allow + ["OPTIONS"]).joined(separator: ", ")])
        } else {
            switch router.resolve(method: request.method.rawValue, path: request.uri.path) {
            case .notFound:
                response = Self.problem(PluginError(status: 404, code: "route_not_found", detail: "No route matches \(request.method.rawValue) \(request.uri.path)."))
            case .methodNotAllowed(let allow):
                response = Self.problem(PluginError(status: 405, code: "method_not_allowed",
                                                    detail: "\(request.method.rawValue) is not allowed on \(request.uri.path); use \(allow.joined(separator: ", ")).",
                                                    headers: ["Allow": allow.joined(separator: ", ")]))
            case .found(let match):
                pattern = match.pattern
                response = await serve(match, request, requestID: requestID, peer: context.peer)
            }
        }
        response.headers[.init("x-request-id")!] = requestID
        if !CORSPolicy.isPreflight(request) { kernel.cors.decorate(&response, for: request) }
        let elapsed = (ContinuousClock.now - started).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        // Label sets written directly (as MetricsRegistry.render would, keys sorted): this runs
        // for every request.
        let route = MetricsRegistry.escape(pattern)
        kernel.metrics.increment("son1k_http_requests_total",
                                 rendered: "{method=\"\(request.method.rawValue)\",route=\"\(route)\",status=\"\(response.status.code)\"}")
        kernel.metrics.observe("son1k_http_request_duration_seconds", seconds, rendered: "{route=\"\(route)\"}")
        return response
    }

    private func serve(_ match: RouteTable<RouteTarget>.Match, _ request: Hummingbird.Request, requestID: String, peer: String) async -> Hummingbird.Response {
        let body: ByteBuffer
        let limit = match.target.spec.maxBodyBytes ?? kernel.settings.maxBodyBytes
        do {
            if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw TooLarge() }
            body = try await request.body.collect(upTo: limit)
        } catch {
            return Self.problem(PluginError(status: 413, code: "body_too_large",
                                            detail: "The request body is larger than the limit of \(limit) bytes."))
        }
        // The peer address travels as a header the client cannot set (any incoming copy is dropped).
        let headers = request.headers.filter { $0.name.canonicalName != Self.peerHeader }.map { ($0.name.canonicalName, $0.value) }
            + [(Self.peerHeader, peer)]
        let authorization = request.headers[.authorization]
        let target = match.target
        let isInline: Bool
        if case .inline = target.handler { isInline = true } else { isInline = false }
        var stream: ResponseStream?
        if target.spec.stream, case .plugin(let plugin, _) = target.handler { stream = kernel.streams.open(plugin: plugin.name) }
        let streamID = stream?.id ?? 0
        let work: @Sendable () -> Hummingbird.Response = { [kernel] in
            do {
                // Inline routes are public and never touch the database, credentials included.
                let (principal, invalid) = isInline ? (nil, false) : try kernel.authenticate(authorization)
                try Authorizer.check(target.spec.auth, principal: principal, credentialsInvalid: invalid, params: match.params)
                switch target.handler {
                case .plugin(let plugin, let index):
                    guard plugin.status == .running else {
                        throw PluginError(status: 503, code: "plugin_unavailable", detail: "The plugin '\(plugin.name)' is not running.")
                    }
                    let r = plugin.handleRequest(PluginRequest(
                        routeIndex: index, method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                        requestID: requestID, params: match.params, headers: headers, principal: principal, body: body, stream: streamID))
                    return Self.response(status: r.status, headers: r.headers, body: r.body)
                case .kernel(let handler), .inline(let handler):
                    let r = try handler(Son1kPluginKit.Request(
                        method: request.method.rawValue, path: request.uri.path, rawQuery: request.uri.query ?? "",
                        params: Dictionary(match.params, uniquingKeysWith: { a, _ in a }), headers: Dictionary(headers, uniquingKeysWith: { a, _ in a }),
                        principal: principal, requestID: requestID, body: Array(buffer: body)))
                    return Self.response(status: r.status, headers: r.headers, body: r.body)
                }
            } catch {
                return Self.problem(HostContext.problem(for: error))
            }
        }
        if isInline { return work() }
        if let stream { return await streamed(stream, work) }
        if target.spec.mayWait { return await kernel.handlers.runWaiting(work) }
        return await kernel.handlers.run(work)
    }

    /// A streaming route: the handler runs on a thread of its own (it waits on its source as
    /// it writes); the response leaves with the head the handler sends, and its body follows
    /// the handler's writes. A handler that never streams answers the usual way.
    private func streamed(_ stream: ResponseStream, _ work: @escaping @Sendable () -> Hummingbird.Response) async -> Hummingbird.Response {
        let kernel = self.kernel
        let handler = Task {
            await kernel.handlers.runWaiting {
                defer { kernel.streams.close(stream) }
                return work()
            }
        }
        guard let head = await stream.waitForHead() else { return await handler.value }
        var fields = HTTPFields()
        for (name, value) in head.headers { if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) } }
        return Hummingbird.Response(status: .init(code: head.status), headers: fields, body: ResponseBody { writer in
            do {
                for await chunk in stream.chunks { try await writer.write(chunk) }
            } catch {
                stream.clientWentAway()
                throw error
            }
            try await writer.finish(nil)
        })
    }

    struct TooLarge: Error {}

    /// The header through which kernel routes and plugins learn the client's address.
    static let peerHeader = "x-son1k-peer"

    static func response(status: Int, headers: [(String, String)], body: [UInt8]) -> Hummingbird.Response {
        var fields = HTTPFields()
        for (name, value) in headers { if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) } }
        return Hummingbird.Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func problem(_ error: PluginError) -> Hummingbird.Response {
        let r = Son1kPluginKit.Response.problem(error)
        return response(status: r.status, headers: r.headers, body: r.body)
    }

    /// The client's request id when it is short and plain, otherwise a fresh one.
    static func requestID(_ given: String?) -> String {
        if let given, (1...64).contains(given.count), given.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) { return given }
        return IDs.make("req")
    }
}
