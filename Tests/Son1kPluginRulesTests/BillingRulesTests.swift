import Foundation
import Son1kContracts
import Son1kPluginKit
import Son1kPluginTesting
@testable import Son1kBilling
import Testing

/// The billing plugin's subscription policy: which Stripe events change a tier, in which
/// order, and how often — on the test host, with events signed as Stripe signs them.
@Suite struct BillingRulesTests {
    static let t0 = Date(iso8601: "2026-06-01T08:00:00Z")!
    static let secret = "whsec_rules"

    func host() throws -> TestHost<BillingPlugin> {
        var config = BillingPlugin.Config()
        config.webhookSecret = Self.secret
        config.prices = ["CREATOR": "price_creator", "PRO": "price_pro"]
        return try TestHost(BillingPlugin.self, config: config, clock: TestClock(start: Self.t0))
    }

    /// A Stripe event, signed for `host`'s clock, delivered to the webhook.
    @discardableResult
    func send(_ host: TestHost<BillingPlugin>, id: String, type: String, created: Int, object: JSONValue, signedAt: Date? = nil,
              secret: String = secret) -> TestResponse {
        let body = (["id": .string(id), "type": .string(type), "created": .integer(Int64(created)), "data": ["object": object]] as JSONValue).bytes
        let t = Int((signedAt ?? host.clock.now).timeIntervalSince1970)
        let signature = Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: Array("\(t).".utf8) + body))
        return host.request("POST", "/api/billing/webhook", headers: ["Stripe-Signature": "t=\(t),v1=\(signature)"], body: body)
    }

    func subscription(_ status: String, price: String = "price_pro", user: String = "u1", periodEnd: Int = 1_783_000_000) -> JSONValue {
        ["id": "sub_1", "status": .string(status), "customer": "cus_1", "metadata": ["user_id": .string(user)],
         "current_period_end": .integer(Int64(periodEnd)), "items": ["data": [["price": ["id": .string(price)]]]]]
    }

    @Test func aSubscriptionsStateMovesOnlyForward() throws {
        let host = try host()
        #expect(send(host, id: "evt_1", type: "customer.subscription.created", created: 100, object: subscription("active")).status == 200)
        #expect(try host.published(.subscriptionChanged) == [SubscriptionChanged(userId: "u1", tier: "PRO", status: "active", periodEnd: 1_783_000_000)])
        // An older event arriving late is recorded and ignored.
        let late = send(host, id: "evt_0", type: "customer.subscription.updated", created: 90, object: subscription("active", price: "price_creator"))
        #expect(try late.decode(JSONValue.self)["result"].string == "ignored: older than the state already applied")
        // Deleted is final: a later "updated" cannot bring the tier back.
        send(host, id: "evt_2", type: "customer.subscription.deleted", created: 110, object: subscription("canceled"))
        send(host, id: "evt_3", type: "customer.subscription.updated", created: 120, object: subscription("active"))
        #expect(try host.published(.subscriptionChanged).map(\.status) == ["active", "canceled"])
    }

    @Test func eachEventTakesEffectOnce() throws {
        let host = try host()
        for _ in 0..<5 { send(host, id: "evt_1", type: "customer.subscription.created", created: 100, object: subscription("active")) }
        #expect(try host.published(.subscriptionChanged).count == 1)
        let replay = send(host, id: "evt_1", type: "customer.subscription.created", created: 100, object: subscription("active"))
        #expect(try replay.decode(JSONValue.self)["duplicate"] == true)
    }

    @Test func aFailedPaymentIsAGracePeriodThatAPaidInvoiceEnds() throws {
        let host = try host()
        send(host, id: "evt_1", type: "customer.subscription.created", created: 100, object: subscription("active"))
        send(host, id: "evt_2", type: "invoice.payment_failed", created: 110, object: ["id": "in_1", "subscription": "sub_1"])
        send(host, id: "evt_3", type: "invoice.paid", created: 120, object: ["id": "in_2", "subscription": "sub_1"])
        // A paid invoice of an active subscription changes nothing.
        send(host, id: "evt_4", type: "invoice.paid", created: 130, object: ["id": "in_3", "subscription": "sub_1"])
        #expect(try host.published(.subscriptionChanged).map(\.status) == ["active", "past_due", "active"])
    }

    @Test func onlyConfiguredPricesAndKnownUsersChangeTiers() throws {
        let host = try host()
        let unknown = send(host, id: "evt_1", type: "customer.subscription.created", created: 100, object: subscription("active", price: "price_gold"))
        #expect(try unknown.decode(JSONValue.self)["result"].string == "ignored: unknown price price_gold")
        // A subscription before its checkout: stored, applied once the checkout names the user.
        var anonymous = subscription("active")
        anonymous["id"] = "sub_2"
        anonymous["metadata"] = [:]
        anonymous["customer"] = "cus_2"
        send(host, id: "evt_2", type: "customer.subscription.created", created: 100, object: anonymous)
        #expect(try host.published(.subscriptionChanged).isEmpty)
        send(host, id: "evt_3", type: "checkout.session.completed", created: 105,
             object: ["id": "cs_1", "client_reference_id": "u2", "customer": "cus_2", "subscription": "sub_2"])
        #expect(try host.published(.subscriptionChanged) == [SubscriptionChanged(userId: "u2", tier: "PRO", status: "active", periodEnd: 1_783_000_000)])
    }

    @Test func onlySignedFreshEventsAreAccepted() throws {
        let host = try host()
        let forged = send(host, id: "evt_1", type: "customer.subscription.created", created: 100, object: subscription("active"), secret: "whsec_other")
        #expect(forged.status == 400 && forged.problem?.code == "invalid_signature")
        let stale = send(host, id: "evt_1", type: "customer.subscription.created", created: 100, object: subscription("active"),
                         signedAt: Self.t0.addingTimeInterval(-301))
        #expect(stale.status == 400 && stale.problem!.detail.contains("300 s"))
        let unsigned = host.request("POST", "/api/billing/webhook", body: Array("{}".utf8))
        #expect(unsigned.problem?.detail.contains("Stripe-Signature header is missing") == true)
        #expect(try host.published(.subscriptionChanged).isEmpty)
        #expect(send(host, id: "evt_1", type: "customer.subscription.created", created: 100, object: subscription("active")).status == 200)
    }
}
