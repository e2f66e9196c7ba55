import HTTPTypes
import Hummingbird

/// Cross-origin access for browser front ends, from the kernel block's `cors_origins`
/// (`["https://app.example.com"]`, or `["*"]` for any origin). Empty: no CORS headers.
struct CORSPolicy: Sendable {
    let origins: [String]

    func allowedOrigin(_ request: Request) -> String? {
        guard !origins.isEmpty, let origin = request.headers[.origin] else { return nil }
        if origins.contains("*") { return "*" }
        return origins.contains(origin) ? origin : nil
    }

    /// The answer to a preflight `OPTIONS`, or nil when it is not one we allow.
    func preflight(_ request: Request) -> Response? {
        guard request.headers[.accessControlRequestMethod] != nil, allowedOrigin(request) != nil else { return nil }
        var headers = HTTPFields()
        headers[.accessControlAllowMethods] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
        headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? "Authorization, Content-Type"
        headers[.accessControlMaxAge] = "600"
        return Response(status: .noContent, headers: headers)
    }

    func decorate(_ response: inout Response, for request: Request) {
        guard let origin = allowedOrigin(request) else { return }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Content-Range, ETag"
        if origin != "*" { response.headers[.vary] = "Origin" }
    }
}
