import HTTPTypes
import Hummingbird
import Son1kPluginKit

/// Cross-origin access for browser front ends (the Fetch standard's CORS protocol), from the
/// kernel block's `cors_origins` or `SON1K_CORS_ORIGINS`: exact origins
/// (`https://app.example.com`), or `*` for any. Empty: no CORS headers, and every preflight
/// is refused.
///
/// Credentials: son1k authenticates with a Bearer header, never a cookie, so a page needs no
/// `credentials: "include"`. Still, a listed origin is echoed with
/// `Access-Control-Allow-Credentials: true` so such a fetch works; `*` is answered as `*`
/// and without that header, as the standard requires (a wildcard never carries credentials).
struct CORSPolicy: Sendable {
    private let listed: Set<String>
    private let anyOrigin: Bool

    /// The request headers every route accepts from a page; a preflight asking for others is
    /// answered with this list, and the browser refuses the request.
    static let allowedHeaders = ["Accept", "Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "Range", "X-Request-Id"]
    /// Response headers a page's script may read besides the CORS-safelisted ones.
    static let exposedHeaders = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Content-Range, Content-Length, ETag, Location"
    /// How long a browser may cache a preflight's answer.
    static let maxAgeSeconds = 600

    init(origins: [String]) {
        anyOrigin = origins.contains("*")
        listed = Set(origins.filter { $0 != "*" }.map(Self.normalise))
    }

    var isEnabled: Bool { anyOrigin || !listed.isEmpty }

    /// What `Access-Control-Allow-Origin` says to this origin, or nil when it is not allowed.
    func allowedOrigin(_ origin: String?) -> (value: String, credentials: Bool)? {
        guard let origin, isEnabled else { return nil }
        if listed.contains(Self.normalise(origin)) { return (origin, true) }
        return anyOrigin ? ("*", false) : nil
    }

    /// Whether the request is a CORS preflight (an `OPTIONS` naming the method it asks for).
    static func isPreflight(_ request: Request) -> Bool {
        request.method == .options && request.headers[.origin] != nil && request.headers[.accessControlRequestMethod] != nil
    }

    /// The answer to a preflight for a path whose routes accept `methods`.
    func preflight(_ request: Request, methods: [String]) -> Response {
        let origin = request.headers[.origin]
        guard let allowed = allowedOrigin(origin) else {
            return KernelResponder.problem(PluginError(
                status: 403, code: "cors_origin_not_allowed",
                detail: "The origin \(origin ?? "") may not call this API from a browser; the operator lists allowed origins in kernel.cors_origins or SON1K_CORS_ORIGINS."))
        }
        let asked = request.headers[.accessControlRequestMethod] ?? ""
        var headers = HTTPFields()
        headers[.accessControlAllowOrigin] = allowed.value
        if allowed.credentials { headers[.accessControlAllowCredentials] = "true" }
        headers[.vary] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        guard methods.contains(asked) else {
            // Answered with CORS headers so that the page's console shows this reason.
            var response = KernelResponder.problem(PluginError(
                status: 405, code: "method_not_allowed",
                detail: "\(asked) is not allowed on \(request.uri.path); use \(methods.joined(separator: ", ")).",
                headers: ["Allow": methods.joined(separator: ", ")]))
            response.headers.append(contentsOf: headers)
            return response
        }
        headers[.accessControlAllowMethods] = (methods + ["OPTIONS"]).joined(separator: ", ")
        headers[.accessControlAllowHeaders] = Self.allowedHeaders.joined(separator: ", ")
        headers[.accessControlMaxAge] = String(Self.maxAgeSeconds)
        return Response(status: .noContent, headers: headers)
    }

    /// CORS headers on an actual (non-preflight) response.
    func decorate(_ response: inout Response, for request: Request) {
        guard isEnabled else { return }
        // A listed origin is echoed, so caches must key the answer by Origin.
        if !listed.isEmpty { response.headers[.vary] = response.headers[.vary].map { "\($0), Origin" } ?? "Origin" }
        guard response.headers[.accessControlAllowOrigin] == nil, let allowed = allowedOrigin(request.headers[.origin]) else { return }
        response.headers[.accessControlAllowOrigin] = allowed.value
        if allowed.credentials { response.headers[.accessControlAllowCredentials] = "true" }
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
    }

    /// Origins compare case-insensitively in scheme and host, without a trailing slash.
    private static func normalise(_ origin: String) -> String {
        var o = origin.lowercased()
        while o.hasSuffix("/") { o.removeLast() }
        return o
    }
}
