import Foundation
import Son1kPluginKit

extension KernelRoutes {
    struct Registration: Codable, SchemaRules {
        var email: String
        var username: String
        var password: String
        static let schemaRules: [FieldRule] = [.length("password", 8...1024)]
    }
    struct Login: Codable { var email: String; var password: String }

    var authRoutes: [RouteTarget] {
        [
            route("POST", "/api/auth/register", .public, "Create an account",
                  description: "Returns the new user and a JWT of a new session; with SMTP configured, a link to confirm the address is mailed. 409 when the e-mail or username is taken; 422 names the invalid field.",
                  request: JSONSchema.of(Registration.self), response: JSONSchema.of(Session.self, for: .response), status: 201) { [unowned self] req in
                let input = try req.decode(Registration.self)
                let user = try kernel.identity.createUser(email: input.email, username: input.username, password: input.password)
                if let mailer = kernel.mailer { try sendVerification(to: user, mailer) }
                return try .json(Session(token: try signIn(user, req), user: user), status: 201)
            },
            route("POST", "/api/auth/login", .public, "Sign in with e-mail and password",
                  description: "Opens a session and returns its JWT (HS256) to send as `Authorization: Bearer …`; end it with `POST /api/auth/logout`, renew it with `POST /api/auth/refresh`. Repeated failures for one account or from one address are refused with 429 and `Retry-After`.",
                  request: JSONSchema.of(Login.self), response: JSONSchema.of(Session.self, for: .response)) { [unowned self] req in
                let input = try req.decode(Login.self)
                let ip = req.headers[KernelResponder.peerHeader] ?? "unknown"
                if let wait = kernel.loginLimiter.retryAfter(account: input.email, ip: ip) {
                    throw PluginError(status: 429, code: "too_many_login_attempts",
                                      detail: "Too many failed sign-ins; try again in \(wait) seconds.", headers: ["Retry-After": String(wait)])
                }
                guard let user = try kernel.identity.authenticate(email: input.email, password: input.password) else {
                    kernel.loginLimiter.recordFailure(account: input.email, ip: ip)
                    throw PluginError(status: 401, code: "invalid_credentials", detail: "The e-mail or password is wrong.")
                }
                kernel.loginLimiter.recordSuccess(account: input.email)
                return try .json(Session(token: try signIn(user, req), user: user))
            },
            route("GET", "/api/auth/me", .user, "The signed-in user", response: JSONSchema.of(User.self, for: .response)) { [unowned self] req in
                try .json(try requireUser(try req.requirePrincipal().id))
            },
            route("GET", "/api/users/{user_id}", .user, "A user's account (the user themself or an admin)",
                  response: JSONSchema.of(User.self, for: .response)) { [unowned self] req in
                try .json(try requireUser(req.param("user_id")))
            },
        ]
    }

    /// Open a session for `user`, noting the client's user agent and address.
    func signIn(_ user: User, _ req: Request) throws -> String {
        try kernel.identity.signIn(user, userAgent: req.headers["user-agent"], ip: req.headers[KernelResponder.peerHeader])
    }

    func requireUser(_ id: String) throws -> User {
        guard let user = try kernel.identity.user(id: id) else { throw PluginError.notFound("No user \(id).", code: "user_not_found") }
        return user
    }
}
