import Foundation
import Son1kContracts
import Son1kPluginKit

/// Stripe events in, tier changes out.
///
/// Each event is recorded under its id in the same transaction as its effects (and as the
/// `billing.subscription_changed` it publishes), so however often and however concurrently
/// Stripe delivers it, it takes effect once. A subscription's state moves only forward: an
/// event created before the one last applied is recorded and ignored, and `canceled` is final
/// (Stripe never reactivates a canceled subscription), so an old `updated` that arrives after
/// `deleted` cannot bring a tier back.
struct Webhooks {
    let ctx: Context<BillingPlugin.Config>

    func receive(body: [UInt8], signature: String?) throws -> WebhookReceipt {
        guard !ctx.config.webhookSecret.isEmpty else {
            throw PluginError(status: 503, code: "billing_not_configured", detail: "The Stripe webhook is off: no webhook secret is configured.")
        }
        do {
            try WebhookSignature.verify(body: body, header: signature, secret: ctx.config.webhookSecret,
                                        tolerance: ctx.config.toleranceS, now: ctx.now)
        } catch {
            let why = switch error {
            case .missingHeader: "the Stripe-Signature header is missing"
            case .malformedHeader: "the Stripe-Signature header has no timestamp"
            case .noV1Signature: "the Stripe-Signature header has no v1 signature"
            case .mismatch: "no v1 signature matches this body and the endpoint's secret"
            case .outsideTolerance: "the signature's timestamp is more than \(ctx.config.toleranceS) s away from now"
            }
            ctx.metrics.increment("billing_webhooks_rejected")
            throw PluginError(status: 400, code: "invalid_signature", detail: "Webhook rejected: \(why).")
        }
        let event = (try? JSONValue.parse(body)) ?? .null
        guard let id = event["id"].string, let type = event["type"].string, case .object = event["data"]["object"] else {
            throw PluginError(status: 400, code: "invalid_event", detail: "The body is not a Stripe event (id, type, data.object).")
        }
        let created = Int64(event["created"].int ?? 0)
        return try ctx.db.transaction { tx -> WebhookReceipt in
            let fresh = try tx.exec("""
                INSERT INTO billing_events (event_id, type, created, received_at, result) VALUES (?, ?, ?, ?, 'processing')
                ON CONFLICT (event_id) DO NOTHING
                """, [.text(id), .text(type), .int(created), .text(ctx.now.iso8601)]).changes == 1
            guard fresh else { return WebhookReceipt(received: true, duplicate: true) }
            let result = try apply(type, event["data"]["object"], created: created, in: tx)
            try tx.exec("UPDATE billing_events SET result = ? WHERE event_id = ?", [.text(result), .text(id)])
            ctx.log.info("Stripe event \(id) (\(type)): \(result)")
            return WebhookReceipt(received: true, result: result)
        }
    }

    private func apply(_ type: String, _ object: JSONValue, created: Int64, in tx: Database) throws -> String {
        switch type {
        case "checkout.session.completed":
            return try checkoutCompleted(object, in: tx)
        case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
            return try subscriptionChanged(object, deleted: type.hasSuffix("deleted"), created: created, in: tx)
        case "invoice.paid", "invoice.payment_failed":
            return try invoice(object, paid: type == "invoice.paid", in: tx)
        default:
            return "ignored: not an event this plugin handles"
        }
    }

    /// Links the user to the Stripe customer and subscription Checkout created.
    private func checkoutCompleted(_ session: JSONValue, in tx: Database) throws -> String {
        guard let user = session["client_reference_id"].string ?? session["metadata"]["user_id"].string else {
            return "ignored: the session names no user"
        }
        if let customer = session["customer"].string {
            try tx.exec("""
                INSERT INTO billing_customers (user_id, customer_id, created_at) VALUES (?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET customer_id = excluded.customer_id
                """, [.text(user), .text(customer), .text(ctx.now.iso8601)])
        }
        guard let subscription = session["subscription"].string else { return "linked the customer" }
        let row = try tx.query("SELECT * FROM billing_subscriptions WHERE subscription_id = ?", [.text(subscription)]).first
        guard let row else {
            // The subscription's own events may still come; they will find the user through it.
            try tx.exec("""
                INSERT INTO billing_subscriptions (subscription_id, user_id, customer_id, status, updated_at) VALUES (?, ?, ?, 'incomplete', ?)
                """, [.text(subscription), .text(user), SQLValue(session["customer"]), .text(ctx.now.iso8601)])
            return "linked the customer and subscription"
        }
        guard row["user_id"].isNull else { return "already linked" }
        // The subscription's events came first without a user: apply them now that we know who.
        try tx.exec("UPDATE billing_subscriptions SET user_id = ? WHERE subscription_id = ?", [.text(user), .text(subscription)])
        if let tier = row["tier"].string, let status = row["status"].string {
            try publish(user: user, tier: tier, status: status, periodEnd: row["current_period_end"].int.map(Int64.init), in: tx)
            return "linked; \(status) \(tier) applied"
        }
        return "linked the subscription"
    }

    private func subscriptionChanged(_ sub: JSONValue, deleted: Bool, created: Int64, in tx: Database) throws -> String {
        guard let id = sub["id"].string else { return "ignored: no subscription id" }
        let existing = try tx.query("SELECT * FROM billing_subscriptions WHERE subscription_id = ?", [.text(id)]).first
        if let existing {
            if existing["status"].string == "canceled" { return "ignored: the subscription is already canceled" }
            if Int64(existing["last_event_created"].int ?? 0) > created { return "ignored: older than the state already applied" }
        }
        let item = sub["items"]["data"][0]
        guard let price = item["price"]["id"].string ?? sub["plan"]["id"].string else { return "ignored: no price" }
        guard let tier = ctx.config.tier(forPrice: price) else {
            ctx.log.warning("Stripe subscription \(id) has price \(price), which no tier is configured with: ignored")
            return "ignored: unknown price \(price)"
        }
        let status = deleted ? "canceled" : (sub["status"].string ?? "incomplete")
        // Newer API versions carry the period on the item, older ones on the subscription.
        let periodEnd = (deleted ? sub["ended_at"].int : nil) ?? sub["current_period_end"].int ?? item["current_period_end"].int
        let customer = sub["customer"].string
        var user = sub["metadata"]["user_id"].string ?? existing?["user_id"].string
        if user == nil, let customer {
            user = try tx.query("SELECT user_id FROM billing_customers WHERE customer_id = ?", [.text(customer)]).first?["user_id"].string
        }
        try tx.exec("""
            INSERT INTO billing_subscriptions (subscription_id, user_id, customer_id, price_id, tier, status, current_period_end,
                cancel_at_period_end, last_event_created, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (subscription_id) DO UPDATE SET user_id = COALESCE(excluded.user_id, billing_subscriptions.user_id),
                customer_id = COALESCE(excluded.customer_id, billing_subscriptions.customer_id), price_id = excluded.price_id,
                tier = excluded.tier, status = excluded.status, current_period_end = excluded.current_period_end,
                cancel_at_period_end = excluded.cancel_at_period_end, last_event_created = excluded.last_event_created,
                updated_at = excluded.updated_at
            """, [.text(id), SQLValue(user.map(JSONValue.string) ?? .null), SQLValue(customer.map(JSONValue.string) ?? .null), .text(price),
                  .text(tier), .text(status), SQLValue(periodEnd.map { JSONValue.number(Double($0)) } ?? .null),
                  .int(sub["cancel_at_period_end"].bool == true ? 1 : 0), .int(created), .text(ctx.now.iso8601)])
        guard let user else { return "stored; no user linked yet" }
        try publish(user: user, tier: tier, status: status, periodEnd: periodEnd.map(Int64.init), in: tx)
        return "\(status) \(tier) applied"
    }

    /// A failed payment starts the grace period (`past_due`); a paid invoice ends it.
    private func invoice(_ invoice: JSONValue, paid: Bool, in tx: Database) throws -> String {
        guard let id = invoice["subscription"].string ?? invoice["parent"]["subscription_details"]["subscription"].string,
              let row = try tx.query("SELECT * FROM billing_subscriptions WHERE subscription_id = ?", [.text(id)]).first,
              let status = row["status"].string, let tier = row["tier"].string
        else { return "ignored: not a known subscription's invoice" }
        let next: String
        switch (paid, status) {
        case (false, "active"), (false, "trialing"): next = "past_due"
        case (true, "past_due"), (true, "unpaid"): next = "active"
        default: return "recorded; the subscription stays \(status)"
        }
        try tx.exec("UPDATE billing_subscriptions SET status = ?, updated_at = ? WHERE subscription_id = ?", [.text(next), .text(ctx.now.iso8601), .text(id)])
        if let user = row["user_id"].string {
            try publish(user: user, tier: tier, status: next, periodEnd: row["current_period_end"].int.map(Int64.init), in: tx)
        }
        return "\(next) \(tier) applied"
    }

    private func publish(user: String, tier: String, status: String, periodEnd: Int64?, in tx: Database) throws {
        try ctx.publishAction(.subscriptionChanged, SubscriptionChanged(userId: user, tier: tier, status: status, periodEnd: periodEnd),
                              userID: user, in: tx)
        ctx.metrics.increment("billing_subscription_changes", labels: ["status": status])
    }
}
