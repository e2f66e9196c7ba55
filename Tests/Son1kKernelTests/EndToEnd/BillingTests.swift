import Foundation
import Son1kPluginKit
import Testing

extension PluginSpec {
    static func billing(_ config: JSONValue = [:]) -> PluginSpec {
        PluginSpec(name: "billing", library: "Son1kBilling", config: config)
    }
}

/// The billing plugin against a local Stripe stand-in (Stripe's wire format) and webhooks
/// signed by Stripe's own Python library, in front of the real tiers plugin.
@Suite(.serialized) struct BillingTests {
    static let key = "sk_test_51son1kbilling"
    static let secret = "whsec_son1k_test_secret"

    static func config(_ stripe: StripeFake, prices: JSONValue? = nil) -> JSONValue {
        [
            "secret_key": .string(key), "webhook_secret": .string(secret), "api_base": .string(stripe.base),
            "prices": prices ?? ["CREATOR": "price_creator", "PRO": "price_pro", "STUDIO": "price_studio"],
            "public_url": "https://son1k.example", "egress_hosts": .array([.string("127.0.0.1:\(stripe.port)")]),
        ]
    }

    /// A Stripe event as Stripe sends it.
    static func event(_ type: String, _ object: JSONValue, id: String = "evt_\(UUID().uuidString.prefix(12))", created: Int = Int(Date().timeIntervalSince1970)) -> [UInt8] {
        JSONValue.object(["id": .string(id), "object": "event", "api_version": "2024-06-20", "created": .number(Double(created)),
                          "livemode": false, "type": .string(type), "data": ["object": object]]).bytes
    }

    static func subscription(_ id: String, user: String?, customer: String, status: String, price: String) -> JSONValue {
        let end = Double(Int(Date().timeIntervalSince1970) + 30 * 86_400)
        var metadata: [String: JSONValue] = [:]
        if let user { metadata["user_id"] = .string(user) }
        return ["id": .string(id), "object": "subscription", "customer": .string(customer), "status": .string(status),
                "cancel_at_period_end": false, "current_period_end": .number(end), "metadata": .object(metadata),
                "items": ["object": "list", "data": [["id": "si_1", "price": ["id": .string(price), "object": "price"], "current_period_end": .number(end)]]]]
    }

    /// POST a webhook body, signed unless a header is given.
    static func deliver(_ k: TestKernel, _ body: [UInt8], header: String? = nil, path: String = "/api/billing/webhook") async throws -> TestResponse {
        var signature = header ?? ""
        if header == nil { signature = try await StripeFake.sign(body, secret: secret, timestamp: Int(Date().timeIntervalSince1970)) }
        return try await k.request("POST", path, body: body, headers: ["Stripe-Signature": signature, "Content-Type": "application/json"])
    }

    @Test func checkoutSpeaksStripesWireFormatAndRecordsNothingOnAStripeError() async throws {
        let stripe = try await StripeFake.start(key: Self.key)
        defer { stripe.stop() }
        let k = try await TestKernel.start([.tiers(), .billing(Self.config(stripe, prices: ["PRO": "price_pro", "STUDIO": "price_missing"]))])
        defer { k.stop() }
        let me = try await k.register("subscriber")
        let r = try await k.request("POST", "/api/billing/checkout", token: me.token, json: ["tier": "PRO"])
        #expect(r.status == 200 && r.json["checkout_url"].string?.hasPrefix("https://checkout.stripe.com/") == true, "\(r)")
        #expect(r.json["session_id"].string?.hasPrefix("cs_test_") == true)

        let sent = try await stripe.requests()
        #expect(sent.count == 1 && sent[0]["path"] == "/v1/checkout/sessions")
        #expect(sent[0]["headers"]["authorization"] == .string("Bearer \(Self.key)"))
        #expect(sent[0]["headers"]["content-type"] == "application/x-www-form-urlencoded")
        #expect((sent[0]["headers"]["idempotency-key"].string?.count ?? 0) >= 16)
        let form = Dictionary((sent[0]["form"].array ?? []).map { ($0[0].string ?? "", $0[1].string ?? "") }, uniquingKeysWith: { a, _ in a })
        #expect(form == [
            "mode": "subscription", "line_items[0][price]": "price_pro", "line_items[0][quantity]": "1",
            "client_reference_id": me.id, "metadata[user_id]": me.id, "metadata[tier]": "PRO", "subscription_data[metadata][user_id]": me.id,
            "success_url": "https://son1k.example/billing/success?session_id={CHECKOUT_SESSION_ID}", "cancel_url": "https://son1k.example/billing/cancel",
        ])

        // The original path is an alias; FREE and unknown tiers never reach Stripe.
        #expect(try await k.request("POST", "/api/tiers/checkout", token: me.token, json: ["tier": "PRO"]).status == 200)
        for tier in ["FREE", "GOD", "CREATOR"] {
            let refused = try await k.request("POST", "/api/billing/checkout", token: me.token, json: ["tier": .string(tier)])
            #expect(refused.status == 422 && refused.json["detail"].string?.contains("PRO, STUDIO") == true, "\(tier): \(refused)")
        }
        #expect(try await k.request("POST", "/api/billing/checkout", json: ["tier": "PRO"]).status == 401)
        // Stripe refuses: 502 with its message, and no session recorded.
        let broken = try await k.request("POST", "/api/billing/checkout", token: me.token, json: ["tier": "STUDIO"])
        #expect(broken.status == 502 && broken.json["code"] == "stripe_error" && broken.json["detail"].string?.contains("No such price: 'price_missing'") == true)
        let recorded = try await k.integer("SELECT COUNT(*) AS n FROM billing_checkouts")
        #expect(recorded == 2)
        #expect(try await stripe.requests().count == 3)

        // Once Checkout completed, the user's customer is reused and the portal opens.
        let noPortal = try await k.request("POST", "/api/billing/portal", token: me.token)
        #expect(noPortal.status == 409 && noPortal.json["code"] == "no_customer")
        let completed = Self.event("checkout.session.completed", ["id": "cs_test_done", "object": "checkout.session", "mode": "subscription",
                                                                  "client_reference_id": .string(me.id), "customer": "cus_42", "subscription": "sub_42"])
        #expect(try await Self.deliver(k, completed).status == 200)
        #expect(try await k.request("POST", "/api/billing/checkout", token: me.token, json: ["tier": "PRO"]).status == 200)
        let again = try await stripe.requests().last?["form"].array?.first { $0[0] == "customer" }
        #expect(again?[1] == "cus_42")
        let portal = try await k.request("POST", "/api/billing/portal", token: me.token)
        #expect(portal.status == 200 && portal.json["url"].string?.hasPrefix("https://billing.stripe.com/") == true)
    }

    @Test func signaturesAreCheckedAsStripesOwnLibraryMakesThem() async throws {
        let stripe = try await StripeFake.start(key: Self.key)
        defer { stripe.stop() }
        let k = try await TestKernel.start([.tiers(), .billing(Self.config(stripe))])
        defer { k.stop() }
        let body = Self.event("invoice.paid", ["id": "in_1", "object": "invoice", "subscription": "sub_unknown"])
        let now = Int(Date().timeIntervalSince1970)
        let good = try await StripeFake.sign(body, secret: Self.secret, timestamp: now)
        #expect(try await Self.deliver(k, body, header: good).status == 200)

        let otherSecret = try await StripeFake.sign(body, secret: "whsec_someone_else", timestamp: now)
        var tampered = body
        tampered[tampered.count - 3] = UInt8(ascii: "X")
        let stale = try await StripeFake.sign(body, secret: Self.secret, timestamp: now - 400)
        let v1 = good.split(separator: ",").first { $0.hasPrefix("v1=") }.map(String.init) ?? ""
        let onlyV0 = "t=\(now),v0=\(v1.dropFirst(3))"
        let rejections: [(String, [UInt8], String?)] = [
            ("a wrong secret", body, otherSecret), ("a tampered body", tampered, good), ("a timestamp 400 s old", body, stale),
            ("only a v0 signature", body, onlyV0), ("no header", body, ""),
        ]
        for (what, payload, header) in rejections {
            let r = try await Self.deliver(k, payload, header: header)
            #expect(r.status == 400 && r.json["code"] == "invalid_signature", "\(what): \(r)")
        }
        // Rolling the secret: Stripe sends one v1 per secret; the matching one is enough.
        let otherV1 = otherSecret.split(separator: ",").first { $0.hasPrefix("v1=") }.map(String.init) ?? ""
        let rotating = Self.event("invoice.paid", ["id": "in_2", "object": "invoice", "subscription": "sub_unknown"])
        let rotatingGood = try await StripeFake.sign(rotating, secret: Self.secret, timestamp: now)
        let rotatingV1 = rotatingGood.split(separator: ",").first { $0.hasPrefix("v1=") }.map(String.init) ?? ""
        #expect(try await Self.deliver(k, rotating, header: "t=\(now),\(otherV1),\(rotatingV1)").status == 200)
        // Signed but not an event: a client error, not a crash.
        let notAnEvent = try await Self.deliver(k, Array("not json".utf8))
        #expect(notAnEvent.status == 400 && notAnEvent.json["code"] == "invalid_event")
        let events = try await k.request("GET", "/api/admin/billing/events", token: try await k.adminToken()).json["items"].array ?? []
        #expect(events.count == 2, "only the two verified events were recorded")
    }

    @Test func oneEventDeliveredTwentyTimesChangesTheTierOnce() async throws {
        let stripe = try await StripeFake.start(key: Self.key)
        defer { stripe.stop() }
        let k = try await TestKernel.start([.tiers(), .billing(Self.config(stripe))])
        defer { k.stop() }
        let me = try await k.register("replayed")
        let body = Self.event("customer.subscription.created", Self.subscription("sub_r", user: me.id, customer: "cus_r", status: "active", price: "price_pro"))
        let header = try await StripeFake.sign(body, secret: Self.secret, timestamp: Int(Date().timeIntervalSince1970))
        var statuses: [Int] = []
        for _ in 0..<10 { statuses.append(try await Self.deliver(k, body, header: header).status) }
        statuses += try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10 { group.addTask { try await Self.deliver(k, body, header: header, path: "/api/tiers/webhook").status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 20))
        _ = try await poll("the tier change") { try await k.limits(me.token)["tier"] == "PRO" ? true : nil }
        #expect(try await k.eventCountsByUser("billing.subscription_changed") == [me.id: 1])
    }

    @Test func subscriptionsMoveTiersOnlyForwardAndOnlyToConfiguredPrices() async throws {
        let stripe = try await StripeFake.start(key: Self.key)
        defer { stripe.stop() }
        let k = try await TestKernel.start([.tiers(), .billing(Self.config(stripe))])
        defer { k.stop() }
        let me = try await k.register("lifecycle")
        let t0 = Int(Date().timeIntervalSince1970) - 100
        // Checkout completes; the subscription (no user in its metadata) is found through the customer.
        #expect(try await Self.deliver(k, Self.event("checkout.session.completed", [
            "id": "cs_1", "object": "checkout.session", "client_reference_id": .string(me.id), "customer": "cus_1", "subscription": "sub_1",
        ], created: t0)).status == 200)
        #expect(try await Self.deliver(k, Self.event("customer.subscription.created",
                                                     Self.subscription("sub_1", user: nil, customer: "cus_1", status: "active", price: "price_pro"), created: t0 + 1)).status == 200)
        let pro = try await poll("PRO") { () -> JSONValue? in
            let l = try await k.limits(me.token)
            guard l["tier"] == "PRO" else { return nil }  // not `? l : nil`: nil would become JSONValue.null
            return l
        }
        #expect(pro["limits"]["limit"] == 200 && pro["limits"]["period"] == "month", "\(pro)")
        let mine = try await k.request("GET", "/api/billing/subscription", token: me.token).json
        #expect(mine["tier"] == "PRO" && mine["status"] == "active" && mine["subscription_id"] == "sub_1")

        // Deleted, then an older update arrives late: the user stays FREE.
        var deleted = Self.subscription("sub_1", user: nil, customer: "cus_1", status: "canceled", price: "price_pro")
        deleted["ended_at"] = .number(Double(t0 + 20))
        #expect(try await Self.deliver(k, Self.event("customer.subscription.deleted", deleted, created: t0 + 20)).status == 200)
        _ = try await poll("FREE after deletion") { try await k.limits(me.token)["tier"] == "FREE" ? true : nil }
        let late = try await Self.deliver(k, Self.event("customer.subscription.updated",
                                                        Self.subscription("sub_1", user: nil, customer: "cus_1", status: "active", price: "price_pro"), created: t0 + 10))
        #expect(late.status == 200 && late.json["result"].string?.hasPrefix("ignored") == true)
        // An unknown price never becomes a tier.
        let odd = try await Self.deliver(k, Self.event("customer.subscription.created",
                                                       Self.subscription("sub_2", user: me.id, customer: "cus_1", status: "active", price: "price_unheard_of"), created: t0 + 30))
        #expect(odd.status == 200 && odd.json["result"] == "ignored: unknown price price_unheard_of")
        let admin = try await k.adminToken()
        // Deliveries are asynchronous: wait until tiers has seen every change billing published.
        _ = try await poll("tiers to apply every change") { try await k.undelivered(to: "tiers") == 0 ? true : nil }
        #expect(try await k.limits(me.token)["tier"] == "FREE")
        #expect(try await k.eventCountsByUser("billing.subscription_changed") == [me.id: 2], "created and deleted only")
        let subs = try await k.request("GET", "/api/admin/billing/subscriptions", token: admin).json["items"].array ?? []
        #expect(subs.map(\.["subscription_id"]) == ["sub_1"] && subs[0]["status"] == "canceled")
    }

    @Test func withoutSecretsBillingIsOffAndForgedEventsChangeNothing() async throws {
        let k = try await TestKernel.start([.tiers(), .billing()])
        defer { k.stop() }
        let me = try await k.register("forger")
        let forged = Self.event("customer.subscription.created", Self.subscription("sub_f", user: me.id, customer: "cus_f", status: "active", price: "price_pro"))
        for header in ["", try await StripeFake.sign(forged, secret: "whsec_guess", timestamp: Int(Date().timeIntervalSince1970))] {
            let r = try await Self.deliver(k, forged, header: header)
            #expect(r.status == 503 && r.json["code"] == "billing_not_configured")
        }
        let checkout = try await k.request("POST", "/api/billing/checkout", token: me.token, json: ["tier": "PRO"])
        #expect(checkout.status == 503 && checkout.json["code"] == "billing_not_configured" && checkout.json["checkout_url"].isNull)
        #expect(try await k.limits(me.token)["tier"] == "FREE")
        #expect(try await k.eventCountsByUser("billing.subscription_changed").isEmpty)
    }
}
