import Foundation
import Son1kPluginKit

/// The body of `POST /api/billing/checkout`.
struct CheckoutRequest: Codable, Sendable {
    /// A paid tier with a configured price.
    var tier: String
    /// Sent by the original front ends; when given it must be the caller's own id.
    var userId: String?
}

/// Where to send the user to pay.
struct CheckoutView: Codable, Sendable {
    var checkoutUrl: String
    var sessionId: String
}

/// Stripe's billing portal for the user.
struct PortalView: Codable, Sendable {
    var url: String
}

/// A subscription as billing knows it; `status: none` (and nothing else) for a user with none.
struct SubscriptionView: Codable, Sendable {
    var subscriptionId: String?
    var tier: String?
    /// Stripe's status (`active`, `past_due`, `canceled`, …) or `none`.
    var status: String
    var currentPeriodEnd: Date?
    var cancelAtPeriodEnd: Bool?
    /// For admins.
    var userId: String?
    var customerId: String?
    var priceId: String?
    var updatedAt: Date?
}

struct SubscriptionList: Codable, Sendable {
    var items: [SubscriptionView]
}

/// A Stripe event as received, and what it did.
struct BillingEventView: Codable, Sendable {
    var eventId: String
    var type: String
    /// Stripe's `created`, seconds since 1970.
    var created: Int64
    var receivedAt: Date
    var result: String
}

struct BillingEventList: Codable, Sendable {
    var items: [BillingEventView]
}

/// What the webhook answers Stripe.
struct WebhookReceipt: Codable, Sendable {
    var received: Bool
    /// A replay of an event already applied.
    var duplicate: Bool?
    var result: String?
}

/// A row of `billing_subscriptions`.
struct SubscriptionRow: Decodable, Sendable {
    static let columns = "subscription_id, user_id, customer_id, price_id, tier, status, current_period_end, cancel_at_period_end, updated_at"

    var subscriptionId: String
    var userId: String?
    var customerId: String?
    var priceId: String?
    var tier: String?
    var status: String
    var currentPeriodEnd: Int64?
    var cancelAtPeriodEnd: Int?
    var updatedAt: Date

    func view(forAdmin: Bool) -> SubscriptionView {
        SubscriptionView(subscriptionId: subscriptionId, tier: tier, status: status,
                         currentPeriodEnd: currentPeriodEnd.map { Date(timeIntervalSince1970: Double($0)) }, cancelAtPeriodEnd: cancelAtPeriodEnd == 1,
                         userId: forAdmin ? userId : nil, customerId: forAdmin ? customerId : nil, priceId: forAdmin ? priceId : nil,
                         updatedAt: forAdmin ? updatedAt : nil)
    }
}
