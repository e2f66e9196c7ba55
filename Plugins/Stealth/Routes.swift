import Foundation
import Son1kPluginKit

extension StealthPlugin {
    /// Every route is for workers and admins (`auth: .worker` admits both); changing accounts
    /// is for admins alone. Users and anonymous callers never reach the router.
    func registerRoutes(_ r: inout Registry<Config>) {
        r.get("/api/stealth/health", auth: .worker, summary: "Rotation health per provider and account",
              description: "`status` is `ok` when every provider has an account free, `degraded` when some do, `unavailable` when none does.",
              returns: HealthView.self) { _, ctx in
            try Rotation(ctx: ctx).health()
        }

        r.get("/api/stealth/stats", auth: .worker, summary: "Account counts: total, active, in cooldown, banned, degraded, available",
              description: "Query `provider` narrows to one provider. Banned and inactive accounts are outside `active_accounts`; `available` + `in_cooldown` = `active_accounts`.",
              returns: StatsView.self) { req, ctx in
            try Rotation(ctx: ctx).stats(provider: req.query("provider"))
        }

        r.post("/api/stealth/rotate", auth: .worker, summary: "Skip the account round robin would lease next",
               description: "The body may be empty (the default provider). Accounts are masked.",
               request: JSONSchema.of(ProviderChoice.self), response: JSONSchema.of(RotationView.self, for: .response)) { req, ctx in
            try .json(try Rotation(ctx: ctx).rotate(provider: try provider(req, ctx)))
        }

        r.post("/api/stealth/mark-health", auth: .worker, summary: "Set an account's health",
               description: """
                   Body `{account_id, health: healthy|degraded|banned, reason?}`. Workers may take an account out (degraded, \
                   banned); restoring one to `healthy` is for admins (403 `admin_only`) and clears its cooldown and error streak.
                   """, body: HealthMark.self, returns: AccountView.self) { req, input, ctx in
            let account = try Rotation(ctx: ctx).mark(input.accountId, health: input.health, reason: input.reason, by: try req.requirePrincipal())
            return AccountStore(ctx: ctx).view(account)
        }

        r.post("/api/stealth/request-headers", auth: .worker, summary: "Preview the headers the next lease would carry (credential masked)",
               description: """
                   Body `{provider?}`. Answers `{provider, account_id, headers}` with the credential masked; nothing is leased. The \
                   credential itself reaches only plugins in this process, through the `stealth.acquire` service.
                   """, request: JSONSchema.of(ProviderChoice.self), response: JSONSchema.of(HeaderPreview.self, for: .response)) { req, ctx in
            let provider = try provider(req, ctx)
            guard let next = try Rotation(ctx: ctx).preview(provider: provider) else {
                return try .json(HeaderPreview(provider: provider, accountId: nil, headers: [:], baseUrl: nil))
            }
            let settings = ctx.config.provider(provider)
            let scheme = settings.authScheme ?? "Bearer"
            let masked = next.credentialHint
            return try .json(HeaderPreview(provider: provider, accountId: next.id,
                                           headers: [settings.authHeader ?? "Authorization": scheme.isEmpty ? masked : "\(scheme) \(masked)"],
                                           baseUrl: [next.baseUrl, settings.baseUrl].compactMap { $0 }.first { !$0.isEmpty }))
        }

        r.get("/api/stealth/accounts", auth: .worker, summary: "Provider accounts, credentials masked",
              description: "Query: `provider`, `limit` (1–200, default 50), `cursor` (the previous page's `next_cursor`).",
              returns: AccountPage.self) { req, ctx in
            let limit = try req.pageLimit(default: 50, max: 200)
            let after = try cursor(req)
            let store = AccountStore(ctx: ctx)
            let rows = try store.list(provider: req.query("provider"), after: after, limit: limit + 1)
            let shown = rows.prefix(limit)
            return AccountPage(data: shown.map(store.view), nextCursor: rows.count > limit ? shown.last.map { PageCursor.encode([.integer($0.seq)]) } : nil)
        }

        r.post("/api/stealth/accounts", auth: .admin, summary: "Add a provider account",
               description: """
                   Body `{provider?, label, credential, base_url?, proxy?, active?}` → 201 with the account, credential masked. The \
                   credential and proxy URL are stored encrypted and never shown again. 409 `account_exists` for a second label of \
                   one provider; 503 `encryption_key_missing` until the plugin has an encryption key.
                   """, body: NewAccount.self, returns: AccountView.self, status: 201) { req, input, ctx in
            let store = AccountStore(ctx: ctx)
            let account = try store.create(input)
            ctx.log.info("stealth: account \(account.id) (\(account.provider), \(account.label)) added")
            return store.view(account)
        }

        r.get("/api/stealth/accounts/{id}", auth: .worker, summary: "One provider account, credential masked",
              returns: AccountView.self) { req, ctx in
            let store = AccountStore(ctx: ctx)
            return store.view(try store.require(req.param("id")))
        }

        r.patch("/api/stealth/accounts/{id}", auth: .admin, summary: "Change a provider account",
                description: "Any of `label`, `credential`, `base_url` (null clears), `proxy` (null clears), `active`. Health changes go through mark-health.",
                request: JSONSchema.of(AccountChangeBody.self), response: JSONSchema.of(AccountView.self, for: .response)) { req, ctx in
            let store = AccountStore(ctx: ctx)
            let account = try store.update(req.param("id"), try AccountStore.Change(try req.json))
            return try .json(store.view(account))
        }

        r.delete("/api/stealth/accounts/{id}", auth: .admin, summary: "Delete a provider account and its lease history",
                 returns: NoContent.self) { req, ctx in
            try AccountStore(ctx: ctx).delete(req.param("id"))
            return NoContent()
        }
    }

    private func provider(_ req: Request, _ ctx: Context<Config>) throws -> String {
        let body = req.body.isEmpty ? JSONValue.object([:]) : try req.json
        guard body["provider"] == .null || body["provider"].string != nil else { throw PluginError.invalid("provider", "must be a string.") }
        return body["provider"].string ?? ctx.config.defaultProvider
    }

    private func cursor(_ req: Request) throws -> Int64 {
        guard let raw = req.query("cursor") else { return 0 }
        guard let seq = try PageCursor.decode(raw, count: 1)[0].int else { throw PluginError.invalid("cursor", "is not a cursor this list gave out.") }
        return Int64(seq)
    }
}
