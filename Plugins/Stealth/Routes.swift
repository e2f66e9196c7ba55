import Foundation
import Son1kPluginKit

extension StealthPlugin {
    /// Every route is for workers and admins (`auth: .worker` admits both); changing accounts
    /// is for admins alone. Users and anonymous callers never reach the router.
    func registerRoutes(_ r: inout Registry<Config>) {
        r.get("/api/stealth/health", auth: .worker, summary: "Rotation health per provider and account",
              description: "`status` is `ok` when every provider has an account free, `degraded` when some do, `unavailable` when none does.") { _, ctx in
            try .json(try Rotation(ctx: ctx).health())
        }

        r.get("/api/stealth/stats", auth: .worker, summary: "Account counts: total, active, in cooldown, banned, degraded, available",
              description: "Query `provider` narrows to one provider. Banned and inactive accounts are outside `active_accounts`; `available` + `in_cooldown` = `active_accounts`.",
              response: Schemas.stats) { req, ctx in
            try .json(try Rotation(ctx: ctx).stats(provider: req.query("provider")))
        }

        r.post("/api/stealth/rotate", auth: .worker, summary: "Skip the account round robin would lease next",
               description: "Body `{provider?}`. Answers `{provider, skipped, next}` (accounts masked).", request: Schemas.provider) { req, ctx in
            try .json(try Rotation(ctx: ctx).rotate(provider: try provider(req, ctx)))
        }

        r.post("/api/stealth/mark-health", auth: .worker, summary: "Set an account's health",
               description: """
                   Body `{account_id, health: healthy|degraded|banned, reason?}`. Workers may take an account out (degraded, \
                   banned); restoring one to `healthy` is for admins (403 `admin_only`) and clears its cooldown and error streak.
                   """, request: Schemas.markHealth, response: Schemas.account) { req, ctx in
            struct Body: Decodable { var accountId: String; var health: String; var reason: String? }
            let body = try req.decode(Body.self)
            guard let health = Health(rawValue: body.health) else { throw PluginError.invalid("health", "must be healthy, degraded or banned.") }
            let account = try Rotation(ctx: ctx).mark(body.accountId, health: health, reason: body.reason, by: try req.requirePrincipal())
            return try .json(AccountStore(ctx: ctx).view(account))
        }

        r.post("/api/stealth/request-headers", auth: .worker, summary: "Preview the headers the next lease would carry (credential masked)",
               description: """
                   Body `{provider?}`. Answers `{provider, account_id, headers}` with the credential masked; nothing is leased. The \
                   credential itself reaches only plugins in this process, through the `stealth.acquire` service.
                   """, request: Schemas.provider) { req, ctx in
            let provider = try provider(req, ctx)
            let next = try Rotation(ctx: ctx).preview(provider: provider)
            let settings = ctx.config.provider(provider)
            let scheme = settings.authScheme ?? "Bearer"
            let masked = next["credential"].string ?? ""
            return try .json([
                "provider": .string(provider), "account_id": next["id"],
                "headers": next == .null ? [:] : [.init(settings.authHeader ?? "Authorization"): .string(scheme.isEmpty ? masked : "\(scheme) \(masked)")],
                "base_url": next == .null ? .null : [next["base_url"].string, settings.baseUrl].compactMap { $0 }.first { !$0.isEmpty }.map { .string($0) } ?? .null,
            ] as JSONValue)
        }

        r.get("/api/stealth/accounts", auth: .worker, summary: "Provider accounts, credentials masked",
              description: "Query: `provider`, `limit` (1–200, default 50), `cursor` (the previous page's `next_cursor`).",
              response: Schemas.page) { req, ctx in
            let limit = try req.pageLimit(default: 50, max: 200)
            let after = try cursor(req)
            let store = AccountStore(ctx: ctx)
            let rows = try store.list(provider: req.query("provider"), after: after, limit: limit + 1)
            let shown = rows.prefix(limit)
            return try .json([
                "data": .array(shown.map(store.view)),
                "next_cursor": rows.count > limit ? shown.last.map { .string(PageCursor.encode([.number(Double($0.seq))])) } ?? .null : .null,
            ] as JSONValue)
        }

        r.post("/api/stealth/accounts", auth: .admin, summary: "Add a provider account",
               description: """
                   Body `{provider?, label, credential, base_url?, proxy?, active?}` → 201 with the account, credential masked. The \
                   credential and proxy URL are stored encrypted and never shown again. 409 `account_exists` for a second label of \
                   one provider; 503 `encryption_key_missing` until the plugin has an encryption key.
                   """, request: Schemas.newAccount, response: Schemas.account, status: 201) { req, ctx in
            let store = AccountStore(ctx: ctx)
            let account = try store.create(try req.decode(AccountStore.NewAccount.self))
            ctx.log.info("stealth: account \(account.id) (\(account.provider), \(account.label)) added")
            return try .json(store.view(account), status: 201)
        }

        r.get("/api/stealth/accounts/{id}", auth: .worker, summary: "One provider account, credential masked",
              response: Schemas.account) { req, ctx in
            let store = AccountStore(ctx: ctx)
            return try .json(store.view(try store.require(req.param("id"))))
        }

        r.patch("/api/stealth/accounts/{id}", auth: .admin, summary: "Change a provider account",
                description: "Any of `label`, `credential`, `base_url` (null clears), `proxy` (null clears), `active`. Health changes go through mark-health.",
                request: Schemas.accountChange, response: Schemas.account) { req, ctx in
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
