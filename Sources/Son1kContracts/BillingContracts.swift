import Son1kPluginKit

/// The billing plugin's event, which the tiers plugin applies.
extension Topic where Payload == SubscriptionChanged {
    /// A user's subscription changed: a new tier, a renewal, a lapse, a cancellation.
    public static let subscriptionChanged = Topic("billing.subscription_changed")
}

/// `billing.subscription_changed`.
public struct SubscriptionChanged: Codable, Sendable, Equatable {
    public var userId: String
    public var tier: String
    /// Stripe's subscription status: `active`, `trialing`, `past_due`, `canceled`, …
    public var status: String
    /// When the paid period ends, in seconds since 1970 (Stripe's form), when known.
    public var periodEnd: Int64?

    public init(userId: String, tier: String, status: String, periodEnd: Int64?) {
        self.userId = userId
        self.tier = tier
        self.status = status
        self.periodEnd = periodEnd
    }
}
