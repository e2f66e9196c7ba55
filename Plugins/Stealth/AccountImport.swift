import Foundation
import Son1kPluginKit

/// Reads accounts from a JSON file at start-up: the original `config/stealth_accounts.json`
/// (`{"accounts": [...]}` or a bare array). Each entry names its label (`label`, `name`,
/// `email` or `id`), its credential (`credential`, `api_key`, `token`, `key` or
/// `session_token`), and optionally `provider`, `base_url`, `active`/`enabled` and `proxy` (a
/// URL, or `{scheme?, host, port, username?, password?}`). Accounts already present (same
/// provider and label) are left as they are, so the file can stay in place across restarts.
struct AccountImport {
    let ctx: Context<StealthPlugin.Config>

    func run(path: String) throws -> (imported: Int, skipped: Int) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PluginError(status: 500, code: "import_file_missing", detail: "The accounts file \(path) cannot be read.")
        }
        guard let parsed = try? JSONValue.parse(Array(data)) else {
            throw PluginError(status: 500, code: "import_file_invalid", detail: "The accounts file \(path) is not JSON.")
        }
        guard let entries = parsed.array ?? parsed["accounts"].array else {
            throw PluginError(status: 500, code: "import_file_invalid", detail: "The accounts file \(path) needs an array or {\"accounts\": [...]}.")
        }
        let store = AccountStore(ctx: ctx)
        var imported = 0
        var skipped = 0
        for (index, entry) in entries.enumerated() {
            func first(_ names: [String]) -> String? { names.lazy.compactMap { entry[$0].string }.first }
            guard let label = first(["label", "name", "email", "id"]), let credential = first(["credential", "api_key", "token", "key", "session_token"]) else {
                throw PluginError(status: 500, code: "import_file_invalid",
                                  detail: "Entry \(index) of \(path) needs a label (label, name, email or id) and a credential (credential, api_key, token, key or session_token).")
            }
            let account = NewAccount(
                provider: entry["provider"].string, label: label, credential: credential, baseUrl: entry["base_url"].string,
                proxy: Self.proxyURL(entry["proxy"]), active: entry["active"].bool ?? entry["enabled"].bool)
            do {
                _ = try store.create(account)
                imported += 1
            } catch let error as PluginError where error.code == "account_exists" {
                skipped += 1
            } catch let error as PluginError {
                throw PluginError(status: 500, code: "import_file_invalid", detail: "Entry \(index) of \(path): \(error.detail)")
            }
        }
        return (imported, skipped)
    }

    /// A proxy given as a URL or as its parts.
    static func proxyURL(_ value: JSONValue) -> String? {
        if let url = value.string { return url.isEmpty ? nil : url }
        guard let host = value["host"].string else { return nil }
        var parts = URLComponents()
        parts.scheme = value["scheme"].string ?? value["type"].string ?? "http"
        parts.host = host
        parts.port = value["port"].int
        parts.user = value["username"].string ?? value["user"].string
        parts.password = value["password"].string
        return parts.string
    }
}
