/// An optional `Output` answers 204 with no body when the handler returns nil, and is
/// documented as both.
///
/// A typed answer with headers of its own (`Retry-After`, `RateLimit-*`, `Location`):
///
/// ```swift
/// r.get("/api/quota", auth: .user, summary: "My quota", returns: Quota.self) { req, ctx in
///     Reply(quota, headers: [("RateLimit-Remaining", String(quota.remaining))])
/// }
/// ```
///
/// `status` answers with another success status than the route's, for the one case a route
/// declares two (201 for a new resource, 200 for the one that already existed).
public struct Reply<Body: Codable & Sendable>: Sendable {
    /// The answer, encoded as JSON.
    public var body: Body
    /// Headers sent with it.
    public var headers: [(String, String)]
    /// A success status other than the route's, or nil for the route's.
    public var status: Int?

    /// Answer `body` with `headers` (and `status` when not the route's).
    public init(_ body: Body, headers: [(String, String)] = [], status: Int? = nil) {
        self.body = body
        self.headers = headers
        self.status = status
    }
}
