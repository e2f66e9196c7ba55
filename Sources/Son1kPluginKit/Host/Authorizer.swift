/// Applies a route's declared auth level, and the `{user_id}` rule: a route with a
/// `user_id` parameter serves only that user or an admin.
package enum Authorizer {
    package static func check(_ level: AuthLevel, principal: Principal?, credentialsInvalid: Bool, params: [(String, String)]) throws {
        guard level != .public else { return }
        guard let principal else {
            throw credentialsInvalid
                ? PluginError(status: 401, code: "invalid_token", detail: "The bearer token is invalid or expired; sign in again.",
                              headers: ["WWW-Authenticate": #"Bearer error="invalid_token""#])
                : PluginError(status: 401, code: "unauthenticated", detail: "This endpoint needs a bearer token (POST /api/auth/login).",
                              headers: ["WWW-Authenticate": "Bearer"])
        }
        let allowed: Bool
        switch level {
        case .public: allowed = true
        case .user: allowed = principal.role == "user" || principal.role == "admin"
        case .worker: allowed = principal.role == "worker" || principal.role == "admin"
        case .admin: allowed = principal.role == "admin"
        }
        guard allowed else {
            throw PluginError(status: 403, code: "forbidden", detail: "This endpoint is for \(level.rawValue)s; your credentials are a \(principal.role)'s.")
        }
        if let userID = params.first(where: { $0.0 == "user_id" })?.1, !principal.mayActFor(userID) {
            throw PluginError(status: 403, code: "not_owner", detail: "You can only act on your own account.")
        }
    }
}
