import Foundation
import Son1kPluginKit

extension BillingPlugin {
    func registerRoutes(_ r: inout Registry<Config>) {
        // The original paths under /api/tiers stay as aliases.
        for path in ["/api/billing/checkout", "/api/tiers/checkout"] {
            r.post(path, auth: .user, summary: "Start a Stripe Checkout for a paid tier",
                   description: """
                       Body `{tier, user_id?}` (a paid tier with a configured price; a `user_id` must be yours). 200 `{checkout_url, session_id}`: send the user to \
                       `checkout_url`. 422 for FREE or an unknown tier, 503 `billing_not_configured` without a Stripe key, \
                       502 `stripe_error` with Stripe's message when Stripe refuses.
                       """, body: CheckoutRequest.self, returns: CheckoutView.self, mayWait: true) { req, input, ctx in
                try checkout(tier: input.tier, user: try req.requirePrincipal().acting(as: input.userId), ctx)
            }
        }

        for path in ["/api/billing/webhook", "/api/tiers/webhook"] {
            r.post(path, auth: .public, summary: "Stripe webhook endpoint (signed events only)",
                   description: """
                       Verifies `Stripe-Signature` on the raw body (HMAC-SHA256, any matching v1, `tolerance_s` 300): anything \
                       else is 400 `invalid_signature`; without a webhook secret, 503. Each event id is applied once; a replay \
                       answers 200 with `duplicate: true`.
                       """, returns: WebhookReceipt.self) { req, ctx in
                try Webhooks(ctx: ctx).receive(body: req.body, signature: req.headers["stripe-signature"])
            }
        }

        r.get("/api/billing/subscription", auth: .user, summary: "My subscription: tier, status, period end",
              returns: SubscriptionView.self) { req, ctx in
            let user = try req.requirePrincipal().id
            let row = try ctx.db.queryOne(SubscriptionRow.self, """
                SELECT \(SubscriptionRow.columns) FROM billing_subscriptions WHERE user_id = ? ORDER BY last_event_created DESC LIMIT 1
                """, [.text(user)])
            return row?.view(forAdmin: false) ?? SubscriptionView(status: "none")
        }

        r.post("/api/billing/portal", auth: .user, summary: "Open Stripe's billing portal for my subscription",
               description: "409 `no_customer` before a first Checkout; 503 without a Stripe key.", returns: PortalView.self, mayWait: true) { req, ctx in
            let user = try req.requirePrincipal().id
            try requireConfigured(ctx)
            guard let customer = try ctx.db.query("SELECT customer_id FROM billing_customers WHERE user_id = ?", [.text(user)]).first?["customer_id"].string else {
                throw PluginError.conflict("You have no Stripe customer yet; subscribe through Checkout first.", code: "no_customer")
            }
            let session = try StripeClient(ctx: ctx).post("/v1/billing_portal/sessions", [
                ("customer", customer), ("return_url", ctx.config.publicUrl + ctx.config.cancelPath),
            ], idempotencyKey: UUID().uuidString)
            guard let url = session["url"].string else { throw PluginError(status: 502, code: "stripe_error", detail: "Stripe's answer has no portal url.") }
            return PortalView(url: url)
        }

        r.get("/api/admin/billing/subscriptions", auth: .admin, summary: "Every subscription billing knows of",
              description: "Query `limit` (1–500, default 100), newest change first.", returns: SubscriptionList.self) { req, ctx in
            let rows = try ctx.db.query(SubscriptionRow.self, "SELECT \(SubscriptionRow.columns) FROM billing_subscriptions ORDER BY updated_at DESC LIMIT ?",
                                        [.int(Int64(try req.pageLimit(default: 100, max: 500)))])
            return SubscriptionList(items: rows.map { $0.view(forAdmin: true) })
        }

        r.get("/api/admin/billing/events", auth: .admin, summary: "Recent Stripe webhook events and what each did",
              description: "Query `limit` (1–500, default 100), newest first.", returns: BillingEventList.self) { req, ctx in
            struct Row: Decodable { var eventId, type, result: String; var receivedAt: Date; var created: Int64 }
            let rows = try ctx.db.query(Row.self, "SELECT event_id, type, created, received_at, result FROM billing_events ORDER BY received_at DESC, created DESC LIMIT ?",
                                        [.int(Int64(try req.pageLimit(default: 100, max: 500)))])
            return BillingEventList(items: rows.map { .init(eventId: $0.eventId, type: $0.type, created: $0.created,
                                                             receivedAt: $0.receivedAt, result: $0.result) })
        }
    }

    func requireConfigured(_ ctx: Context<Config>) throws {
        guard !ctx.config.secretKey.isEmpty else {
            throw PluginError(status: 503, code: "billing_not_configured", detail: "Billing is not configured on this server (no Stripe secret key).")
        }
    }

    /// Creates a Checkout Session in subscription mode for `tier`; records it once Stripe accepted it.
    func checkout(tier: String, user: String, _ ctx: Context<Config>) throws -> CheckoutView {
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
        return CheckoutView(checkoutUrl: url, sessionId: id)
    }
}
