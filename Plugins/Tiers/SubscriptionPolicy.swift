import Foundation
import Son1kPluginKit

/// What a `billing.subscription_changed {user_id, tier, status, period_end}` does:
///
/// | status | effect |
/// |---|---|
/// | `active`, `trialing` | the user is on `tier` now (a pending downgrade is dropped) |
/// | `past_due` | nothing changes: a grace period while the payment is retried |
/// | `canceled`, `unpaid`, `incomplete_expired` | back to the default tier at `period_end` (now if it is missing or past) |
/// | anything else (`incomplete`, `paused`) | nothing changes |
///
/// Events are applied in arrival order; billing resolves out-of-order Stripe events before
/// publishing. An unknown tier is logged and ignored rather than retried forever.
enum SubscriptionPolicy {
    static func apply(_ data: JSONValue, _ quota: Quota) throws {
        guard let user = data["user_id"].string, let status = data["status"].string else {
            quota.ctx.log.warning("billing.subscription_changed without user_id or status: ignored")
            return
        }
        switch status {
        case "active", "trialing":
            guard let tier = data["tier"].string, quota.catalog.tier(tier) != nil else {
                quota.ctx.log.error("billing.subscription_changed for \(user): unknown tier '\(data["tier"].string ?? "")' ignored")
                return
            }
            try quota.setTier(user, tier: tier, subscriptionStatus: status)
        case "canceled", "unpaid", "incomplete_expired":
            let now = quota.ctx.now.epochMs
            let end = periodEnd(data["period_end"]).map { max($0, now) } ?? now
            try quota.setTier(user, tier: quota.catalog.defaultTier, at: end, subscriptionStatus: status)
        case "past_due":
            try quota.ctx.db.exec("UPDATE tiers_users SET subscription_status = ? WHERE user_id = ?", [.text(status), .text(user)])
        default:
            quota.ctx.log.info("billing.subscription_changed for \(user) with status \(status): no tier change")
        }
    }

    /// Unix seconds (Stripe's form) or an ISO 8601 instant, as milliseconds.
    static func periodEnd(_ value: JSONValue) -> Int64? {
        if let seconds = value.double { return Int64(seconds * 1000) }
        return value.string.flatMap(Periods.parseISO)?.epochMs
    }
}
