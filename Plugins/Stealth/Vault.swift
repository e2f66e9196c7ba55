import Foundation
import Son1kPluginKit

/// Credentials and proxy URLs at rest: sealed with AES-256-GCM under the configured
/// `encryption_key`, bound to their account id, and shown only masked.
struct Vault {
    private let key: [UInt8]?

    init(_ config: StealthPlugin.Config) {
        key = config.encryptionKey.isEmpty ? nil : Crypto.sha256(Array(config.encryptionKey.utf8))
    }

    private func requireKey() throws -> [UInt8] {
        guard let key else {
            throw PluginError(status: 503, code: "encryption_key_missing",
                              detail: "Provider credentials are stored encrypted; set SON1K_STEALTH_KEY (the stealth plugin's encryption_key) first.")
        }
        return key
    }

    func seal(_ secret: String, account: String) throws -> String {
        "v1." + Crypto.base64URL(Crypto.seal(Array(secret.utf8), key: try requireKey(), associatedData: Array(account.utf8)))
    }

    func open(_ sealed: String, account: String) throws -> String {
        guard sealed.hasPrefix("v1."), let bytes = Crypto.base64URLDecode(sealed.dropFirst(3)),
              let plain = try? Crypto.open(bytes, key: try requireKey(), associatedData: Array(account.utf8)) else {
            throw PluginError(status: 500, code: "credential_unreadable",
                              detail: "Account \(account)'s credential does not open with the configured encryption_key.")
        }
        return String(decoding: plain, as: UTF8.self)
    }

    /// `sk-…abcd`: the key's prefix up to its first `-` or `_` (a kind, not a secret) and its
    /// last four characters; short credentials show nothing of themselves.
    static func hint(_ credential: String) -> String {
        let chars = Array(credential)
        guard chars.count >= 12 else { return "…" }
        let prefix = chars.prefix(8).firstIndex { $0 == "-" || $0 == "_" }.map { String(chars[...$0]) } ?? ""
        return prefix + "…" + String(chars.suffix(4))
    }

    /// The proxy URL without its password: `http://user@proxy.example:3128`.
    static func display(proxy: String) -> String {
        guard var parts = URLComponents(string: proxy) else { return "(unparsable proxy URL)" }
        parts.password = nil
        return parts.string ?? "(unparsable proxy URL)"
    }

    /// `text` with each secret (and its password part, for URLs) replaced by `***`: upstream
    /// error bodies sometimes echo what they were sent.
    static func redact(_ text: String, secrets: [String]) -> String {
        var out = text
        for secret in secrets where secret.count >= 4 {
            out = out.replacingOccurrences(of: secret, with: "***")
            if let password = URLComponents(string: secret)?.password, password.count >= 4 {
                out = out.replacingOccurrences(of: password, with: "***")
            }
        }
        return out
    }
}
