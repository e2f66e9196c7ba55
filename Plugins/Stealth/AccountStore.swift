import Foundation
import Son1kPluginKit

/// Creating, changing and reading accounts. Credentials and proxy URLs are sealed before
/// they reach a row and never come back out through here.
struct AccountStore {
    let ctx: Context<StealthPlugin.Config>

    /// A PATCH body: absent fields stay; `base_url`/`proxy` null clear them.
    struct Change {
        var label: String?
        var credential: String?
        var baseUrl: String??
        var proxy: String??
        var active: Bool?

        init(_ body: JSONValue) throws {
            guard let fields = body.object else { throw PluginError.invalid("body", "must be a JSON object.") }
            let known: Set = ["label", "credential", "base_url", "proxy", "active"]
            if let unknown = fields.keys.first(where: { !known.contains($0) }) {
                throw PluginError.invalid(unknown, "is not a field of an account (\(known.sorted().joined(separator: ", "))).")
            }
            func text(_ name: String) throws -> String?? {
                guard let value = fields[name] else { return .none }
                if value == .null { return .some(nil) }
                guard let s = value.string else { throw PluginError.invalid(name, "must be a string or null.") }
                return .some(s)
            }
            if let v = try text("label") { guard let v else { throw PluginError.invalid("label", "cannot be null.") }; label = v }
            if let v = try text("credential") { guard let v else { throw PluginError.invalid("credential", "cannot be null.") }; credential = v }
            baseUrl = try text("base_url")
            proxy = try text("proxy")
            if let v = fields["active"] {
                guard let b = v.bool else { throw PluginError.invalid("active", "must be true or false.") }
                active = b
            }
        }
    }

    var now: Int64 { ctx.now.epochMs }
    private var vault: Vault { Vault(ctx.config) }

    func create(_ input: NewAccount) throws -> Account {
        let provider = input.provider ?? ctx.config.defaultProvider
        try Self.check(provider: provider)
        try Self.check(label: input.label)
        try Self.check(credential: input.credential)
        try input.baseUrl.map(Self.check(baseUrl:))
        try input.proxy.map(Self.check(proxy:))
        let id = "acct_" + Crypto.randomToken(12)
        let credential = try vault.seal(input.credential, account: id)
        let proxy = try input.proxy.map { try vault.seal($0, account: id) }
        let stamp = ctx.now.iso8601
        return try ctx.db.transaction { tx in
            if try tx.query("SELECT 1 FROM stealth_accounts WHERE provider = ? AND label = ?", [.text(provider), .text(input.label)]).first != nil {
                throw PluginError.conflict("A \(provider) account labelled '\(input.label)' exists already.", code: "account_exists")
            }
            try tx.exec("""
                INSERT INTO stealth_accounts (id, seq, provider, label, credential_sealed, credential_hint, base_url, proxy_sealed,
                    proxy_display, active, created_at, updated_at)
                VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM stealth_accounts), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(id), .text(provider), .text(input.label), .text(credential), .text(Vault.hint(input.credential)),
                      SQLValue(input.baseUrl), SQLValue(proxy), SQLValue(input.proxy.map(Vault.display(proxy:))),
                      .int((input.active ?? true) ? 1 : 0), .text(stamp), .text(stamp)])
            return try get(id, in: tx)!
        }
    }

    func update(_ id: String, _ change: Change) throws -> Account {
        try change.label.map(Self.check(label:))
        try change.credential.map(Self.check(credential:))
        if case .some(.some(let url)) = change.baseUrl { try Self.check(baseUrl: url) }
        if case .some(.some(let url)) = change.proxy { try Self.check(proxy: url) }
        return try ctx.db.transaction { tx in
            guard let current = try get(id, in: tx) else { throw Self.notFound(id) }
            var sets: [String] = []
            var params: [SQLValue] = []
            if let label = change.label, label != current.label {
                if try tx.query("SELECT 1 FROM stealth_accounts WHERE provider = ? AND label = ?", [.text(current.provider), .text(label)]).first != nil {
                    throw PluginError.conflict("A \(current.provider) account labelled '\(label)' exists already.", code: "account_exists")
                }
                sets.append("label = ?"); params.append(.text(label))
            }
            if let credential = change.credential {
                sets.append("credential_sealed = ?, credential_hint = ?")
                params += [.text(try vault.seal(credential, account: id)), .text(Vault.hint(credential))]
            }
            if let baseUrl = change.baseUrl { sets.append("base_url = ?"); params.append(SQLValue(baseUrl)) }
            if let proxy = change.proxy {
                sets.append("proxy_sealed = ?, proxy_display = ?")
                params += [SQLValue(try proxy.map { try vault.seal($0, account: id) }), SQLValue(proxy.map(Vault.display(proxy:)))]
            }
            if let active = change.active { sets.append("active = ?"); params.append(.int(active ? 1 : 0)) }
            guard !sets.isEmpty else { return current }
            sets.append("updated_at = ?")
            params += [.text(ctx.now.iso8601), .text(id)]
            try tx.exec("UPDATE stealth_accounts SET \(sets.joined(separator: ", ")) WHERE id = ?", params)
            return try get(id, in: tx)!
        }
    }

    func delete(_ id: String) throws {
        try ctx.db.transaction { tx in
            guard try tx.exec("DELETE FROM stealth_accounts WHERE id = ?", [.text(id)]).changes == 1 else { throw Self.notFound(id) }
            try tx.exec("DELETE FROM stealth_leases WHERE account_id = ?", [.text(id)])
        }
    }

    func get(_ id: String, in db: Database? = nil) throws -> Account? {
        try (db ?? ctx.db).queryOne(Account.self, "SELECT \(Account.columns) FROM stealth_accounts WHERE id = ?", [.text(id)])
    }

    func require(_ id: String) throws -> Account {
        guard let account = try get(id) else { throw Self.notFound(id) }
        return account
    }

    /// Accounts in rotation order, optionally of one provider; `after` is the last `seq` seen.
    func list(provider: String?, after: Int64, limit: Int) throws -> [Account] {
        var sql = "SELECT \(Account.columns) FROM stealth_accounts WHERE seq > ?"
        var params: [SQLValue] = [.int(after)]
        if let provider { sql += " AND provider = ?"; params.append(.text(provider)) }
        params.append(.int(Int64(limit)))
        return try ctx.db.query(Account.self, sql + " ORDER BY seq LIMIT ?", params)
    }

    func view(_ account: Account) -> AccountView { account.view(now: now, budget: ctx.config.budget(for: account.provider)) }

    /// The secrets an account holds, for redacting upstream messages.
    func secrets(of account: Account) -> [String] {
        [try? vault.open(account.credentialSealed, account: account.id), try? account.proxySealed.map { try vault.open($0, account: account.id) }]
            .compactMap { $0 ?? nil }
    }

    static func notFound(_ id: String) -> PluginError {
        PluginError.notFound("No provider account \(id).", code: "account_not_found")
    }

    // MARK: Validation

    static func check(provider: String) throws {
        guard (1...64).contains(provider.count), provider.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw PluginError.invalid("provider", "must be 1 to 64 characters of a-z, 0-9, - and _.")
        }
    }

    static func check(label: String) throws {
        guard (1...100).contains(label.trimmingCharacters(in: .whitespaces).count) else {
            throw PluginError.invalid("label", "must be 1 to 100 characters.")
        }
    }

    static func check(credential: String) throws {
        guard (1...4096).contains(credential.count), !credential.contains(where: \.isNewline) else {
            throw PluginError.invalid("credential", "must be 1 to 4096 characters on one line.")
        }
    }

    static func check(baseUrl: String) throws {
        guard let url = URL(string: baseUrl), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw PluginError.invalid("base_url", "must be an absolute http(s) URL.")
        }
    }

    static func check(proxy: String) throws {
        guard let url = URL(string: proxy), ["http", "https", "socks5", "socks5h"].contains(url.scheme ?? ""), url.host != nil else {
            throw PluginError.invalid("proxy", "must be an http(s) or socks5 URL such as http://user:password@proxy.example:3128.")
        }
    }
}
