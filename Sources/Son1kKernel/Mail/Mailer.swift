import CCurlFetch
import Dispatch
import Foundation
import Logging
import Son1kPluginKit

/// Sends account mail through the configured SMTP server (libcurl's SMTP client: STARTTLS or
/// TLS, AUTH, the server's certificate checked against the system's roots or `ca_file`).
///
/// Messages go out on a queue of their own after the request that asked for them has been
/// answered: a reset request then takes as long whether or not the address has an account
/// (an SMTP exchange would tell them apart by seconds), and a slow server holds no handler
/// thread. A message that cannot be sent is logged by its Message-ID — never by address, and
/// never with its link — and the user asks again; nothing is queued across a restart.
final class Mailer: Sendable {
    let settings: MailSettings
    let logger: Logger
    private let queue = DispatchQueue(label: "son1k.mail", qos: .utility)
    private let pending = DispatchGroup()

    init(settings: MailSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// The message `purpose`'s template makes for `username` at `to`, with `token` in its link.
    func message(_ purpose: MailPurpose, to: String, username: String, token: String) -> MailMessage {
        let template = settings.templates[purpose] ?? MailSettings.defaultTemplates[purpose]!
        let link = MailTemplate.fill(settings.links[purpose] ?? "{{token}}", ["token": token])
        let values = ["username": username, "link": link, "token": token, "minutes": String((settings.linkTTLSeconds[purpose] ?? 3600) / 60)]
        return MailMessage(from: settings.from, to: to, subject: MailTemplate.fill(template.subject, values), text: MailTemplate.fill(template.text, values))
    }

    /// Send `message` soon, on the mail queue.
    func sendLater(_ message: MailMessage) {
        queue.async(group: pending) { [self] in
            do {
                try send(message)
                logger.info("mail \(message.messageID) sent")
            } catch {
                logger.error("mail \(message.messageID) not sent: \(error)")
            }
        }
    }

    /// Wait up to `timeout` for the messages handed to ``sendLater(_:)`` (shutdown).
    func finish(timeout: DispatchTime) { _ = pending.wait(timeout: timeout) }

    struct SendFailure: Error, CustomStringConvertible { var description: String }

    /// Send `message` now and wait for the server's answer.
    func send(_ message: MailMessage) throws {
        let scheme = settings.security == .tls ? "smtps" : "smtp"
        let url = "\(scheme)://\(settings.host):\(settings.port)"
        var error = [CChar](repeating: 0, count: 256)
        let bytes = message.rendered()
        let result = withCStrings(["<\(MailSettings.address(of: message.to))>"]) { recipients in
            bytes.withUnsafeBufferPointer { body in
                son1k_curl_smtp_send(url, "<\(settings.fromAddress)>", recipients.baseAddress, recipients.count, settings.username, settings.password,
                                     settings.caFile, settings.security == .none ? 0 : 1, body.baseAddress, body.count,
                                     Int(settings.timeoutSeconds) * 1000, &error)
            }
        }
        guard result == 0 else {
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw SendFailure(description: "\(result == 1 ? "timed out" : "failed") talking to \(settings.host):\(settings.port): \(reason)")
        }
    }
}
