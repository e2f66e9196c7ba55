import Foundation
import Son1kPluginKit

/// Stripe subscriptions that change tiers. Checkout creates a real Checkout Session; tier
/// changes come only from webhooks whose signature verifies, each event applied once, in the
/// subscription's own order, and published as `billing.subscription_changed` for the tiers
/// plugin. See DESIGN §4 "billing" and docs/BILLING.md.
public struct BillingPlugin: Plugin {
    public init() {}

    public static let manifest = Manifest(
        name: "billing", version: "1.0.0",
        description: "Stripe subscriptions: Checkout, the billing portal, and verified, idempotent webhooks that change tiers.",
        requires: [.optional("tiers")])

    public struct Config: PluginConfig {
        public init() {}

        /// `sk_live_…`/`sk_test_…`; empty = billing off (checkout 503).
        var secretKey = ""
        /// The endpoint's `whsec_…`; empty = webhook off (503). There is no unsigned mode.
        var webhookSecret = ""
        var apiBase = "https://api.stripe.com"
        /// Stripe price id by tier id: `{"PRO": "price_…"}`; empty ids are ignored.
        var prices: [String: String] = [:]
        /// Where users come back to after Checkout and the portal.
        var publicUrl = "http://127.0.0.1:8080"
        var successPath = "/billing/success?session_id={CHECKOUT_SESSION_ID}"
        var cancelPath = "/billing/cancel"
        /// How old a signed webhook may be, in seconds.
        var toleranceS = 300
        /// Hosts this plugin may call: Stripe's API (and a test double's).
        var egressHosts = ["api.stripe.com"]

        public static let constraints: [ConfigConstraint] = [
            .secret("secret_key"), .secret("webhook_secret"),
            .range("tolerance_s", 1...86_400),
            .describe("prices", "Stripe price id per paid tier id, e.g. {\"PRO\": \"price_123\"}."),
            .describe("api_base", "Stripe's API base URL; its host must be in egress_hosts."),
        ]

        /// The configured prices, without empty ones.
        var priceByTier: [String: String] { prices.filter { !$0.value.isEmpty } }

        func tier(forPrice price: String) -> String? { priceByTier.first { $0.value == price }?.key }
    }

    public static let migrations: [Migration] = [
        .init(1, "CREATE TABLE billing_customers (user_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL)"),
        .init(2, """
            CREATE TABLE billing_subscriptions (
                subscription_id TEXT PRIMARY KEY,
                user_id TEXT,
                customer_id TEXT,
                price_id TEXT,
                tier TEXT,
                status TEXT NOT NULL,
                current_period_end INTEGER,
                cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
                last_event_created INTEGER NOT NULL DEFAULT 0,
                updated_at TEXT NOT NULL
            )
            """),
        .init(3, "CREATE INDEX billing_subscriptions_user ON billing_subscriptions (user_id, last_event_created)"),
        .init(4, """
            CREATE TABLE billing_events (
                event_id TEXT PRIMARY KEY,
                type TEXT NOT NULL,
                created INTEGER NOT NULL,
                received_at TEXT NOT NULL,
                result TEXT NOT NULL
            )
            """),
        .init(5, "CREATE INDEX billing_events_received ON billing_events (received_at)"),
        .init(6, "CREATE TABLE billing_checkouts (session_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, tier TEXT NOT NULL, created_at TEXT NOT NULL)"),
    ]

    public func setUp(_ ctx: Context<Config>) throws {
        guard !ctx.config.secretKey.isEmpty else { return }
        guard let url = URL(string: ctx.config.apiBase), let host = EgressHost.of(url) else {
            throw PluginError.invalid("api_base", "'\(ctx.config.apiBase)' is not a URL.")
        }
        guard EgressHost.allows(url, entries: ctx.config.egressHosts) else {
            throw PluginError.invalid("egress_hosts", "must include \(host), the host of api_base.")
        }
    }

    public func register(_ r: inout Registry<Config>) {
        registerRoutes(&r)
    }
}
