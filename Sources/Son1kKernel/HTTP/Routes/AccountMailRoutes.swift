import Foundation
import Son1kPluginKit

extension KernelRoutes {
    struct ResetRequest: Codable { var email: String }
    struct ResetConfirmation: Codable, SchemaRules {
        var token: String
        var newPassword: String
        static let schemaRules: [FieldRule] = [.length("new_password", 8...1024)]
    }
    struct LinkConfirmation: Codable { var token: String }
    /// The answer to a reset request, the same whether or not the address has an account.
    struct MailAccepted: Codable, Sendable { var detail: String }

    /// Password reset and e-mail verification by mailed one-time links. Without SMTP
    /// configured they answer 503 `mail_not_configured`.
    var accountMailRoutes: [RouteTarget] {
        [
            route("POST", "/api/auth/password/reset", .public, "Mail me a password-reset link",
                  description: "Always 202 with the same answer, whether or not the address has an account. The link works once, for `kernel.mail.reset_ttl_s` (an hour by default). Three requests per address (and `login.max_failures_per_ip` per address of the caller) in `login.window_s`, then 429 with `Retry-After`. 503 `mail_not_configured` without SMTP.",
                  request: JSONSchema.of(ResetRequest.self), response: JSONSchema.of(MailAccepted.self, for: .response), status: 202) { [unowned self] req in
                // The client's mistakes first: bad input is a 4xx whatever the server lacks.
                let input = try req.decode(ResetRequest.self)
                let mailer = try requireMailer()
                let email = input.email.trimmingCharacters(in: .whitespaces).lowercased()
                let ip = req.headers[KernelResponder.peerHeader] ?? "unknown"
                if let wait = kernel.resetLimiter.retryAfter(account: email, ip: ip) {
                    throw PluginError(status: 429, code: "too_many_reset_requests",
                                      detail: "Too many reset requests; try again in \(wait) seconds.", headers: ["Retry-After": String(wait)])
                }
                kernel.resetLimiter.recordFailure(account: email, ip: ip)
                if let user = try kernel.identity.user(email: email) {
                    let token = try kernel.accountLinks.issue(.passwordReset, userID: user.id, email: user.email,
                                                              ttlSeconds: mailer.settings.linkTTLSeconds[.passwordReset] ?? 3600)
                    mailer.sendLater(mailer.message(.passwordReset, to: user.email, username: user.username, token: token))
                }
                return try .json(MailAccepted(detail: "If an account has this address, a reset link is on its way."), status: 202)
            },
            route("POST", "/api/auth/password/reset/confirm", .public, "Choose a new password with a reset link's token",
                  description: "Ends every session of the account. 400 `link_invalid` when the token is unknown, used or expired; 422 for a password the rules refuse (the token stays usable).",
                  request: JSONSchema.of(ResetConfirmation.self), status: 204) { [unowned self] req in
                let input = try req.decode(ResetConfirmation.self)
                // Checked and hashed first: a refused password leaves the token usable.
                let hash = try kernel.identity.newPasswordHash(input.newPassword)
                try kernel.storage.transaction(.readCommitted) { tx in
                    guard let userID = try kernel.accountLinks.consume(.passwordReset, token: input.token, in: tx) else { throw Self.linkInvalid }
                    try kernel.identity.storePassword(userID: userID, hash: hash, keepSession: nil, in: tx)
                    // The link reached the address: that proves it as well as a verification link.
                    try kernel.identity.markVerified(userID, in: tx)
                }
                kernel.identity.principals.removeAll()
                return Response(status: 204)
            },
            route("POST", "/api/auth/verify", .user, "Mail me a link that confirms my e-mail address",
                  description: "Sent on registration too. 409 `already_verified`; 503 `mail_not_configured` without SMTP. The link works once, for `kernel.mail.verification_ttl_s` (a day by default).",
                  response: JSONSchema.of(MailAccepted.self, for: .response), status: 202) { [unowned self] req in
                let mailer = try requireMailer()
                let user = try requireUser(try req.requirePrincipal().id)
                guard !user.emailVerified else { throw PluginError.conflict("Your address is already confirmed.", code: "already_verified") }
                try sendVerification(to: user, mailer)
                return try .json(MailAccepted(detail: "A confirmation link is on its way to \(user.email)."), status: 202)
            },
            route("POST", "/api/auth/verify/confirm", .public, "Confirm an e-mail address with a verification link's token",
                  description: "Returns the account, now with `email_verified`. 400 `link_invalid` when the token is unknown, used, expired, or the account's address changed since.",
                  request: JSONSchema.of(LinkConfirmation.self), response: JSONSchema.of(User.self, for: .response)) { [unowned self] req in
                let input = try req.decode(LinkConfirmation.self)
                let userID = try kernel.storage.transaction(.readCommitted) { tx in
                    guard let userID = try kernel.accountLinks.consume(.emailVerification, token: input.token, in: tx) else { throw Self.linkInvalid }
                    try kernel.identity.markVerified(userID, in: tx)
                    return userID
                }
                return try .json(try requireUser(userID))
            },
        ]
    }

    static let linkInvalid = PluginError(status: 400, code: "link_invalid", detail: "This link is unknown, already used or expired; ask for a new one.")

    func requireMailer() throws -> Mailer {
        guard let mailer = kernel.mailer else {
            throw PluginError(status: 503, code: "mail_not_configured",
                              detail: "This server sends no e-mail: its operator has not configured SMTP (kernel.mail or SON1K_SMTP_HOST).")
        }
        return mailer
    }

    /// Mail `user` a fresh verification link.
    func sendVerification(to user: User, _ mailer: Mailer) throws {
        let token = try kernel.accountLinks.issue(.emailVerification, userID: user.id, email: user.email,
                                                  ttlSeconds: mailer.settings.linkTTLSeconds[.emailVerification] ?? 86400)
        mailer.sendLater(mailer.message(.emailVerification, to: user.email, username: user.username, token: token))
    }
}
