import Foundation
import Son1kPluginKit

extension BillingPlugin {
    func registerRoutes(_ r: inout Registry<Config>) {
        // The original paths under /api/tiers stay as aliases.
        for path in ["/api/billing/checkout", "/api/tiers/checkout"] {
            r.post(path, auth: .user, summary: "Start a Stripe Checkout for a paid tier",
                   description: """
                       Body `{tier}` (a paid tier with a configured price). 200 `{checkout_url, session_id}`: send the user to \
                       `checkout_url`. 422 for FREE or an unknown tier, 503 `billing_not_configured` without a Stripe key, \
                       502 `stripe_error` with Stripe's message when Stripe refuses.
                       """, request: Schemas.checkout, response: Schemas.checkoutResponse, mayWait: true) { req, ctx in
                struct Body: Decodable { var tier: String }
                let body = try req.decode(Body.self)
                return try .json(try checkout(tier: body.tier, user: try req.requirePrincipal().id, ctx))
            }
        }

        for path in ["/api/billing/webhook", "/api/tiers/webhook"] {
            r.post(path, auth: .public, summary: "Stripe webhook endpoint (signed events only)",
                   description: """
                       Verifies `Stripe-Signature` on the raw body (HMAC-SHA256, any matching v1, `tolerance_s` 300): anything \
                       else is 400 `invalid_signature`; without a webhook secret, 503. Each event id is applied once; a replay \
                       answers 200 with `duplicate: true`.
                       """) { req, ctx in
                try .json(try Webhooks(ctx: ctx).receive(body: req.body, signature: req.headers["stripe-signature"]))
            }
        }

        r.get("/api/billing/subscription", auth: .user, summary: "My subscription: tier, status, period end",
              response: Schemas.subscription) { req, ctx in
            let user = try req.requirePrincipal().id
            guard let row = try ctx.db.query("""
                SELECT subscription_id, tier, status, current_period_end, cancel_at_period_end FROM billing_subscriptions
                WHERE user_id = ? ORDER BY last_event_created DESC LIMIT 1
                """, [.text(user)]).first else {
                return try .json(["status": "none", "tier": .null, "subscription_id": .null] as JSONValue)
            }
            return try .json(Self.subscriptionView(row))
        }

        r.post("/api/billing/portal", auth: .user, summary: "Open Stripe's billing portal for my subscription",
               description: "200 `{url}`; 409 `no_customer` before a first Checkout; 503 without a Stripe key.", mayWait: true) { req, ctx in
            let user = try req.requirePrincipal().id
            try requireConfigured(ctx)
            guard let customer = try ctx.db.query("SELECT customer_id FROM billing_customers WHERE user_id = ?", [.text(user)]).first?["customer_id"].string else {
                throw PluginError.conflict("You have no Stripe customer yet; subscribe through Checkout first.", code: "no_customer")
            }
            let session = try StripeClient(ctx: ctx).post("/v1/billing_portal/sessions", [
                ("customer", customer), ("return_url", ctx.config.publicUrl + ctx.config.cancelPath),
            ], idempotencyKey: UUID().uuidString)
            return try .json(["url": session["url"]] as JSONValue)
        }

        r.get("/api/admin/billing/subscriptions", auth: .admin, summary: "Every subscription billing knows of",
              description: "Query `limit` (1–500, default 100), newest change first.") { req, ctx in
            let rows = try ctx.db.query("""
                SELECT subscription_id, user_id, customer_id, price_id, tier, status, current_period_end, cancel_at_period_end, updated_at
                FROM billing_subscriptions ORDER BY updated_at DESC LIMIT ?
                """, [.int(Int64(try req.pageLimit(default: 100, max: 500)))])
            return try .json(["items": .array(rows.map(Self.subscriptionView))] as JSONValue)
        }

        r.get("/api/admin/billing/events", auth: .admin, summary: "Recent Stripe webhook events and what each did",
              description: "Query `limit` (1–500, default 100), newest first.") { req, ctx in
            let rows = try ctx.db.query("SELECT event_id, type, created, received_at, result FROM billing_events ORDER BY received_at DESC, created DESC LIMIT ?",
                                        [.int(Int64(try req.pageLimit(default: 100, max: 500)))])
            return try .json(["items": .array(rows)] as JSONValue)
        }
    }

    func requireConfigured(_ ctx: Context<Config>) throws {
        guard !ctx.config.secretKey.isEmpty else {
            throw PluginError(status: 503, code: "billing_not_configured", detail: "Billing is not configured on this server (no Stripe secret key).")
        }
    }

    /// Creates a Checkout Session in subscription mode for `tier`; records it once Stripe accepted it.
    func checkout(tier: String, user: String, _ ctx: Context<Config>) throws -> JSONValue {
        try requireConfigured(ctx)
        let prices = ctx.config.priceByTier
        guard let price = prices[tier] else {
            throw PluginError.invalid("tier", "'\(tier)' cannot be bought; paid tiers: \(prices.keys.sorted().joined(separator: ", ")).")
        }
        var fields: [(String, String)] = [
            ("mode", "subscription"),
            ("line_items[0][price]", price), ("line_items[0][quantity]", "1"),
            ("client_reference_id", user), ("metadata[user_id]", user), ("metadata[tier]", tier),
            ("subscription_data[metadata][user_id]", user),
            ("success_url", ctx.config.publicUrl + ctx.config.successPath),
            ("cancel_url", ctx.config.publicUrl + ctx.config.cancelPath),
        ]
        if let customer = try ctx.db.query("SELECT customer_id FROM billing_customers WHERE user_id = ?", [.text(user)]).first?["customer_id"].string {
            fields.append(("customer", customer))
        }
        let session = try StripeClient(ctx: ctx).post("/v1/checkout/sessions", fields, idempotencyKey: "checkout-" + UUID().uuidString)
        guard let id = session["id"].string, let url = session["url"].string else {
            throw PluginError(status: 502, code: "stripe_error", detail: "Stripe's answer has no session id or url.")
        }
        try ctx.db.exec("INSERT INTO billing_checkouts (session_id, user_id, tier, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [.text(id), .text(user), .text(tier), .text(ctx.now.iso8601)])
        return ["checkout_url": .string(url), "session_id": .string(id)]
    }

    static func subscriptionView(_ row: JSONValue) -> JSONValue {
        var v = row
        v["current_period_end"] = row["current_period_end"].int.map { .string(Date(timeIntervalSince1970: Double($0)).iso8601) } ?? .null
        v["cancel_at_period_end"] = .bool(row["cancel_at_period_end"].int == 1)
        return v
    }
}

enum Schemas {
    static let checkout: JSONValue = ["type": "object", "required": ["tier"], "properties": ["tier": ["type": "string"]]]
    static let checkoutResponse: JSONValue = [
        "type": "object", "properties": ["checkout_url": ["type": "string"], "session_id": ["type": "string"]],
    ]
    static let subscription: JSONValue = [
        "type": "object",
        "properties": [
            "subscription_id": ["type": ["string", "null"]], "tier": ["type": ["string", "null"]], "status": ["type": "string"],
            "current_period_end": ["type": ["string", "null"], "format": "date-time"], "cancel_at_period_end": ["type": "boolean"],
        ],
    ]
}
