import Foundation
import Son1kContracts
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
    static func apply(_ change: SubscriptionChanged, _ quota: Quota) throws {
        let (user, status) = (change.userId, change.status)
        switch status {
        case "active", "trialing":
            guard quota.catalog.tier(change.tier) != nil else {
                quota.ctx.log.error("billing.subscription_changed for \(user): unknown tier '\(change.tier)' ignored")
                return
            }
            try quota.setTier(user, tier: change.tier, subscriptionStatus: status)
        case "canceled", "unpaid", "incomplete_expired":
            let now = quota.ctx.now.epochMs
            let end = change.periodEnd.map { max($0 * 1000, now) } ?? now
            try quota.setTier(user, tier: quota.catalog.defaultTier, at: end, subscriptionStatus: status)
        case "past_due":
            try quota.ctx.db.exec("UPDATE tiers_users SET subscription_status = ? WHERE user_id = ?", [.text(status), .text(user)])
        default:
            quota.ctx.log.info("billing.subscription_changed for \(user) with status \(status): no tier change")
        }
    }

}
