import Foundation
import Son1kPluginKit

/// Stripe's REST API as it is on the wire: form-encoded `POST`s with bracketed keys, the
/// secret key as a Bearer token, an `Idempotency-Key` so a retried call never creates a
/// second object, and errors as `{"error": {"message", "type", "code"}}`.
struct StripeClient {
    let ctx: Context<BillingPlugin.Config>

    /// `POST {api_base}{path}` with `fields` in order; the decoded object, or 502 with Stripe's message.
    func post(_ path: String, _ fields: [(String, String)], idempotencyKey: String) throws -> JSONValue {
        let base = ctx.config.apiBase.hasSuffix("/") ? String(ctx.config.apiBase.dropLast()) : ctx.config.apiBase
        let response = try ctx.http.fetch(.init(
            method: "POST", url: base + path,
            headers: [
                "Authorization": "Bearer \(ctx.config.secretKey)",
                "Content-Type": "application/x-www-form-urlencoded",
                "Idempotency-Key": idempotencyKey,
            ],
            body: Array(Self.formEncode(fields).utf8), timeoutSeconds: 20))
        let object = try? response.json()
        guard (200..<300).contains(response.status), let object else {
            let message = object?["error"]["message"].string ?? "Stripe answered \(response.status)."
            ctx.log.warning("Stripe \(path) failed with \(response.status): \(message)")
            throw PluginError(status: 502, code: "stripe_error", detail: "Stripe refused the request: \(message)")
        }
        return object
    }

    /// `application/x-www-form-urlencoded`, keys and values percent-encoded (brackets included).
    static func formEncode(_ fields: [(String, String)]) -> String {
        fields.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
