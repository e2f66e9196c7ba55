import Foundation
import Son1kPluginKit

extension KernelRoutes {
    struct PasswordChange: Codable, SchemaRules {
        var currentPassword: String
        var newPassword: String
        static let schemaRules: [FieldRule] = [.length("new_password", 8...1024)]
    }
    struct KeyRequest: Codable, SchemaRules {
        var name: String
        static let schemaRules: [FieldRule] = [.length("name", 1...100)]
    }
    /// A page of sessions, newest first.
    struct SessionPage: Codable, Sendable {
        var items: [SessionInfo]
        var nextCursor: String?
    }
    /// A page of personal API keys, newest first.
    struct KeyPage: Codable, Sendable {
        var items: [IdentityStore.PersonalKey]
        var nextCursor: String?
    }

    /// Signing out, refreshing, listing and revoking sessions, changing the password, and
    /// personal API keys. Managing sessions, keys and the password needs a session token: a
    /// leaked API key must not mint more keys or lock its owner out.
    var sessionRoutes: [RouteTarget] {
        [
            route("POST", "/api/auth/logout", .user, "Sign out: end this session",
                  description: "The token used (and any other token of its session) is refused from the next request on.", status: 204) { [unowned self] req in
                let (claims, principal) = try currentSession(req)
                _ = try kernel.identity.revokeSession(claims.sessionID ?? "", userID: principal.id)
                return Response(status: 204)
            },
            route("POST", "/api/auth/refresh", .user, "A fresh token for this session",
                  description: "Returns a new JWT for the same session, which now lasts a token lifetime (`kernel.token_ttl_s`) from now. Call it before the token expires; a revoked or expired session answers 401.",
                  response: JSONSchema.of(Session.self, for: .response)) { [unowned self] req in
                let (claims, principal) = try currentSession(req)
                guard let token = try kernel.identity.refresh(claims), let user = try kernel.identity.user(id: principal.id) else {
                    throw PluginError(status: 401, code: "session_ended", detail: "This session has ended; sign in again.")
                }
                return try .json(Session(token: token, user: user))
            },
            route("GET", "/api/auth/sessions", .user, "My signed-in sessions, newest first",
                  description: "Live sessions with when each was opened and last used (to the minute), its user agent and address; `current` marks this one. Page with `limit` and `cursor`.",
                  response: JSONSchema.of(SessionPage.self, for: .response)) { [unowned self] req in
                let (claims, principal) = try currentSession(req)
                let limit = try req.pageLimit()
                let page = pageOf(try kernel.identity.sessions.list(userID: principal.id, current: claims.sessionID, limit: limit + 1, after: req.query("cursor")),
                                  limit: limit, id: \.id)
                return try .json(SessionPage(items: page.items, nextCursor: page.next))
            },
            route("DELETE", "/api/auth/sessions/{session_id}", .user, "End one of my sessions (sign out another device)", status: 204) { [unowned self] req in
                let (_, principal) = try currentSession(req)
                guard try kernel.identity.revokeSession(req.param("session_id"), userID: principal.id) else {
                    throw PluginError.notFound("You have no live session \(req.param("session_id")).", code: "session_not_found")
                }
                return Response(status: 204)
            },
            route("POST", "/api/auth/password", .user, "Change my password",
                  description: "Needs the current password (403 `wrong_password`). Every other session ends and unused reset links stop working; this session stays signed in.",
                  request: JSONSchema.of(PasswordChange.self), status: 204) { [unowned self] req in
                let (claims, principal) = try currentSession(req)
                let input = try req.decode(PasswordChange.self)
                try kernel.identity.changePassword(userID: principal.id, current: input.currentPassword, new: input.newPassword, keepSession: claims.sessionID)
                return Response(status: 204)
            },
            route("POST", "/api/auth/keys", .user, "Create a personal API key (shown once)",
                  description: "The key acts as you, with your rights at each use, until revoked: send it as `Authorization: Bearer s1k.…`. Only its prefix is shown again. At most 25 live keys (409 `too_many_api_keys`).",
                  request: JSONSchema.of(KeyRequest.self), status: 201) { [unowned self] req in
                let (_, principal) = try currentSession(req)
                let input = try req.decode(KeyRequest.self)
                return try .json(try kernel.identity.createPersonalKey(userID: principal.id, name: input.name), status: 201)
            },
            route("GET", "/api/auth/keys", .user, "My personal API keys (prefix and last use only), newest first",
                  response: JSONSchema.of(KeyPage.self, for: .response)) { [unowned self] req in
                let (_, principal) = try currentSession(req)
                let limit = try req.pageLimit()
                let page = pageOf(try kernel.identity.personalKeys(userID: principal.id, limit: limit + 1, after: req.query("cursor")), limit: limit, id: \.id)
                return try .json(KeyPage(items: page.items, nextCursor: page.next))
            },
            route("DELETE", "/api/auth/keys/{key_id}", .user, "Revoke one of my personal API keys", status: 204) { [unowned self] req in
                let (_, principal) = try currentSession(req)
                guard try kernel.identity.revokePersonalKey(req.param("key_id"), userID: principal.id) else {
                    throw PluginError.notFound("You have no live API key \(req.param("key_id")).", code: "api_key_not_found")
                }
                return Response(status: 204)
            },
        ]
    }

    /// The session behind the request's token, or 403 `session_required` for an API token.
    func currentSession(_ req: Request) throws -> (JWTSigner.Claims, Principal) {
        let principal = try req.requirePrincipal()
        // The kernel verified the token to resolve the principal; its claims are read again
        // here, on these rare routes, rather than carried on every request.
        guard principal.kind == .user, let header = req.headers["authorization"], let token = Kernel.bearerToken(header),
              let claims = kernel.identity.jwt.verify(token), claims.sessionID != nil
        else {
            throw PluginError(status: 403, code: "session_required", detail: "Sign in with your password for this: an API key cannot manage sessions, keys or the password.")
        }
        return (claims, principal)
    }
}
