import Foundation
import Son1kPluginKit

/// The messages the kernel mails to users.
public enum MailPurpose: String, Sendable, CaseIterable {
    case passwordReset = "password_reset"
    case emailVerification = "email_verification"
}

/// A message's subject and plain-text body, with `{{username}}`, `{{link}}`, `{{token}}` and
/// `{{minutes}}` (how long the link works) filled in when sent.
public struct MailTemplate: Sendable, Equatable {
    public var subject: String
    public var text: String

    /// `template` with each `{{name}}` of `values` replaced.
    static func fill(_ template: String, _ values: [String: String]) -> String {
        values.reduce(template) { $0.replacingOccurrences(of: "{{\($1.key)}}", with: $1.value) }
    }
}

/// The SMTP server account mail goes through, and what it says (`kernel.mail` in
/// plugins.json). Without a host, mail is off: the routes that need it answer 503
/// `mail_not_configured` and everything else works as before.
///
/// ```json
/// "mail": {"smtp": {"host": "smtp.example.com", "port": 587, "security": "starttls",
///                   "username": "son1k", "password": "${SMTP_PASSWORD}", "from": "son1k <no-reply@example.com>"},
///          "links": {"password_reset": "https://app.example.com/reset?token={{token}}"},
///          "templates": {"password_reset": {"subject": "…", "text": "…"}}}
/// ```
///
/// The environment fills what the block leaves out: `SON1K_SMTP_HOST` (which alone turns mail
/// on), `SON1K_SMTP_PORT`, `SON1K_SMTP_SECURITY` (`starttls`, `tls` or `none`),
/// `SON1K_SMTP_USERNAME`, `SON1K_SMTP_PASSWORD`, `SON1K_SMTP_FROM`, `SON1K_SMTP_CA_FILE`.
public struct MailSettings: Sendable {
    /// How the connection is protected: STARTTLS on a plain connection (port 587), TLS from
    /// the first byte (465), or nothing (a relay on the same host, port 25).
    public enum Security: String, Sendable { case starttls, tls, none }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    var password: String?
    /// The `From:` header: an address, or `Name <address>`.
    public var from: String
    /// PEM roots to trust instead of the system's (a private relay's own certificate).
    public var caFile: String?
    public var timeoutSeconds: Int
    /// Where each link points; `{{token}}` is the one-time token the front end's page sends
    /// back. Default: `<public_url>/reset-password?token=…` and `<public_url>/verify-email?token=…`.
    public var links: [MailPurpose: String]
    public var templates: [MailPurpose: MailTemplate]
    /// How long a reset link works (`reset_ttl_s`, default one hour) and a verification link
    /// (`verification_ttl_s`, default a day).
    public var linkTTLSeconds: [MailPurpose: Int]

    /// The address alone of ``from`` (the SMTP envelope's sender).
    var fromAddress: String { Self.address(of: from) }

    /// The address of `Name <address>`, or the text as it is.
    static func address(of mailbox: String) -> String {
        guard let open = mailbox.lastIndex(of: "<"), let close = mailbox.lastIndex(of: ">"), open < close else { return mailbox }
        return String(mailbox[mailbox.index(after: open)..<close])
    }

    static let defaultTemplates: [MailPurpose: MailTemplate] = [
        .passwordReset: MailTemplate(subject: "Reset your son1k password", text: """
            Hello {{username}},

            Someone asked to reset the password of your son1k account. To choose a new one, open this link within {{minutes}} minutes:

            {{link}}

            If it was not you, ignore this message: your password stays as it is.
            """),
        .emailVerification: MailTemplate(subject: "Confirm your e-mail address for son1k", text: """
            Hello {{username}},

            Please confirm that this address is yours by opening this link within {{minutes}} minutes:

            {{link}}

            If you did not create a son1k account, ignore this message.
            """),
    ]

    /// The settings the `mail` block and the environment ask for: nil when no host is set.
    static func parse(_ block: JSONValue, publicURL: String, environment env: (String) -> String?) throws -> MailSettings? {
        let smtp = block["smtp"]
        func text(_ key: String, _ variable: String) -> String? {
            if let v = smtp[key].string, !v.isEmpty { return v }
            return env(variable)
        }
        guard let host = text("host", "SON1K_SMTP_HOST") else { return nil }
        let securityName = text("security", "SON1K_SMTP_SECURITY") ?? "starttls"
        guard let security = Security(rawValue: securityName) else {
            throw KernelConfig.Invalid(description: "kernel.mail.smtp.security (or SON1K_SMTP_SECURITY) must be starttls, tls or none, not \"\(securityName)\"")
        }
        let portValue = smtp["port"].int ?? env("SON1K_SMTP_PORT").flatMap { Int($0) } ?? (security == .tls ? 465 : security == .none ? 25 : 587)
        guard (1...65535).contains(portValue) else { throw KernelConfig.Invalid(description: "kernel.mail.smtp.port must be 1 to 65535, not \(portValue)") }
        let username = text("username", "SON1K_SMTP_USERNAME")
        if username != nil, security == .none {
            throw KernelConfig.Invalid(description: "kernel.mail.smtp: credentials are never sent without TLS; set security to starttls or tls")
        }
        guard let from = text("from", "SON1K_SMTP_FROM"), from.contains("@") else {
            throw KernelConfig.Invalid(description: "kernel.mail.smtp.from (or SON1K_SMTP_FROM) must be the sender's address, such as \"son1k <no-reply@example.com>\"")
        }
        var settings = MailSettings(host: host, port: portValue, security: security, username: username, password: text("password", "SON1K_SMTP_PASSWORD"),
                                    from: from, caFile: text("ca_file", "SON1K_SMTP_CA_FILE"), timeoutSeconds: smtp["timeout_s"].int ?? 30,
                                    links: [.passwordReset: "\(publicURL)/reset-password?token={{token}}", .emailVerification: "\(publicURL)/verify-email?token={{token}}"],
                                    templates: defaultTemplates, linkTTLSeconds: [.passwordReset: 3600, .emailVerification: 24 * 3600])
        for purpose in MailPurpose.allCases {
            if let link = block["links"][purpose.rawValue].string {
                guard link.contains("{{token}}") else { throw KernelConfig.Invalid(description: "kernel.mail.links.\(purpose.rawValue) must contain {{token}}") }
                settings.links[purpose] = link
            }
            let t = block["templates"][purpose.rawValue]
            if let subject = t["subject"].string { settings.templates[purpose]?.subject = subject }
            if let body = t["text"].string {
                guard body.contains("{{link}}") || body.contains("{{token}}") else {
                    throw KernelConfig.Invalid(description: "kernel.mail.templates.\(purpose.rawValue).text must contain {{link}} or {{token}}")
                }
                settings.templates[purpose]?.text = body
            }
        }
        for (key, purpose) in [("reset_ttl_s", MailPurpose.passwordReset), ("verification_ttl_s", .emailVerification)] {
            if let v = block[key].int {
                guard (60...(7 * 24 * 3600)).contains(v) else { throw KernelConfig.Invalid(description: "kernel.mail.\(key) must be 60 to 604800 seconds, not \(v)") }
                settings.linkTTLSeconds[purpose] = v
            }
        }
        return settings
    }
}
