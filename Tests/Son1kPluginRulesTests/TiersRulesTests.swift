import Foundation
import Son1kContracts
import Son1kPluginKit
import Son1kPluginTesting
@testable import Son1kTiers
import Testing

/// The tiers plugin's rules — quota, periods, catalog, subscription changes — run on the
/// test host: no kernel, no server.
@Suite struct TiersRulesTests {
    /// Two hours before April begins (UTC).
    static let t0 = Date(iso8601: "2026-03-31T22:00:00Z")!

    func host(_ config: TiersPlugin.Config = .init()) throws -> TestHost<TiersPlugin> {
        try TestHost(TiersPlugin.self, config: config, clock: TestClock(start: Self.t0))
    }

    func record(_ host: TestHost<TiersPlugin>, _ id: String, user: String = "u1", quality: String = "standard") throws -> TestResponse {
        try host.request("POST", "/api/tiers/record-generation", as: .user(user), json: ["generation_id": id, "quality": quality])
    }

    func limits(_ host: TestHost<TiersPlugin>, _ user: String = "u1") throws -> LimitsView {
        try host.request("GET", "/api/tiers/limits/me", as: .user(user)).decode(LimitsView.self)
    }

    @Test func theFreeQuotaIsThreeADayAndComesBackAtMidnightUTC() throws {
        let host = try host()
        for (n, id) in ["g1", "g2", "g3"].enumerated() {
            let answer = try record(host, id)
            #expect(answer.status == 201)
            #expect(try answer.decode(RecordedView.self).remaining == 2 - n)
        }
        let refused = try record(host, "g4")
        #expect(refused.status == 429)
        #expect(refused.problem?.code == "daily_limit_reached")
        #expect(refused.header("Retry-After") == "7200")
        let state = try limits(host)
        #expect(state.tier == "FREE" && !state.limits.canGenerate && state.limits.remaining == 0)
        #expect(state.limits.resetAt == "2026-04-01T00:00:00Z")
        #expect(state.limits.reason == .dailyLimitReached)

        host.clock.advance(by: 7199)
        #expect(try record(host, "g4").status == 429)
        host.clock.advance(by: 1)
        #expect(try record(host, "g4").status == 201)
        #expect(try limits(host).usage.today == 1)
        // Another user's quota is their own.
        #expect(try record(host, "h1", user: "u2").status == 201)
    }

    /// What the generation plugin does when a user asks for a song: the hook takes a slot.
    func create(_ host: TestHost<TiersPlugin>, _ id: String, user: String = "u1", quality: SongQuality = .standard) throws -> NewGeneration {
        try host.publishHook(.generationBeforeCreate, NewGeneration(generationId: id, userId: user, prompt: "a song", durationS: 10,
                                                                    quality: quality, seed: 1), userID: user)
    }

    @Test func aGenerationTakesASlotAndGivesItBackOnceIfItEndsWithoutASong() throws {
        let host = try host()
        for id in ["g1", "g2", "g3"] { _ = try create(host, id) }
        #expect { try create(host, "g4") } throws: { ($0 as? PluginError)?.code == "daily_limit_reached" }
        let failed = GenerationEnded(generationId: "g1", userId: "u1", error: "engine crashed")
        // At least once: the same event may be delivered again.
        try host.deliver(.generationFailed, failed, userID: "u1", id: "evt_1")
        try host.deliver(.generationFailed, failed, userID: "u1", id: "evt_1")
        #expect(try limits(host).limits.remaining == 1)
        try host.deliver(.generationCancelled, GenerationEnded(generationId: "g2", userId: "u1"), userID: "u1")
        #expect(try limits(host).limits.remaining == 2)
        // A completed one keeps its slot and counts its audio.
        try host.deliver(.generationCompleted, GenerationCompleted(generationId: "g3", userId: "u1", quality: .standard, durationS: 10, genre: nil, engine: "builtin",
                                                                   seed: 1, attempts: 1, audioBlobId: "blob_1", size: 4_000_000, contentType: "audio/wav"))
        try host.deliver(.generationFailed, GenerationEnded(generationId: "g3", userId: "u1"), userID: "u1")
        let after = try limits(host)
        #expect(after.limits.remaining == 2 && after.usage.storageBytes == 4_000_000)
    }

    @Test func theHookRaisesTheJobsPriorityToTheTiers() throws {
        let host = try host()
        #expect(try create(host, "g1").priority == 0)
        try host.deliver(.subscriptionChanged, SubscriptionChanged(userId: "u1", tier: "STUDIO", status: "active", periodEnd: nil))
        #expect(try create(host, "g2", quality: .ultra).priority == 30)
        #expect { try create(host, "g3", user: "u2", quality: .ultra) } throws: { ($0 as? PluginError)?.code == "quality_not_allowed" }
    }

    @Test func anEventMissingAFieldIsRefusedNotDefaulted() throws {
        let host = try host()
        #expect(try record(host, "g1").status == 201)
        #expect { try host.deliver(Topic.generationCompleted.name, data: ["generation_id": "g1", "user_id": "u1"]) } throws: { error in
            let problem = error as? PluginError
            return problem?.code == "event_payload_invalid" && problem!.detail.contains("quality")
        }
    }

    @Test func qualitiesFollowTheTier() throws {
        let host = try host()
        let refused = try record(host, "g1", quality: "ultra")
        #expect(refused.status == 403 && refused.problem?.code == "quality_not_allowed")
        #expect(host.request("PUT", "/api/tiers/users/u1", as: .user("u1"), body: Array(#"{"tier":"PRO"}"#.utf8)).status == 403)
        #expect(host.request("PUT", "/api/tiers/users/u1", as: .admin(), body: Array(#"{"tier":"PRO"}"#.utf8)).status == 200)
        #expect(try record(host, "g1", quality: "ultra").status == 201)
    }

    @Test func aMonthlyTierCountsPerCalendarMonth() throws {
        var config = TiersPlugin.Config()
        config.tiers = ["CREATOR": TierOverride(limit: 2)]
        let host = try host(config)
        #expect(host.request("PUT", "/api/tiers/users/u1", as: .admin(), body: Array(#"{"tier":"CREATOR"}"#.utf8)).status == 200)
        #expect(try record(host, "g1").status == 201)
        #expect(try record(host, "g2").status == 201)
        let refused = try record(host, "g3")
        #expect(refused.problem?.code == "monthly_limit_reached")
        #expect(refused.header("Retry-After") == "7200")
        #expect(try limits(host).limits.resetAt == "2026-04-01T00:00:00Z")
        host.clock.advance(by: 7200)
        #expect(try record(host, "g3").status == 201)
        let april = try limits(host)
        #expect(april.usage.thisMonth == 1 && april.limits.resetAt == "2026-05-01T00:00:00Z")
    }

    @Test func periodsAreUTCCalendarDaysAndMonths() {
        let leap = Periods(now: Date(iso8601: "2028-02-28T23:30:00Z")!)
        #expect(leap.dayKey == "d:2028-02-28" && leap.monthKey == "m:2028-02" && leap.hourKey == "h:2028-02-28T23")
        #expect(leap.resetAt(.day) == Date(iso8601: "2028-02-29T00:00:00Z"))
        #expect(leap.resetAt(.month) == Date(iso8601: "2028-03-01T00:00:00Z"))
        #expect(leap.nextHour == Date(iso8601: "2028-02-29T00:00:00Z"))
        let newYear = Periods(now: Date(iso8601: "2026-12-31T23:59:59.500Z")!)
        #expect(newYear.resetAt(.month) == Date(iso8601: "2027-01-01T00:00:00Z"))
        #expect(newYear.secondsUntil(newYear.resetAt(.day)) == 1)
        #expect(Periods.iso(Date(iso8601: "1969-12-31T23:59:59Z")!) == "1969-12-31T23:59:59Z")
    }

    @Test func theCatalogTakesTheOperatorsOverrides() throws {
        var config = TiersPlugin.Config()
        config.tiers = ["FREE": TierOverride(limit: 5),
                        "TEAM": TierOverride(priceUsd: 19, period: "month", limit: 100, qualities: ["standard", "high"])]
        let host = try host(config)
        let catalog = try host.request("GET", "/api/tiers").decode(CatalogView.self)
        #expect(catalog.tiers.map(\.id) == ["FREE", "CREATOR", "TEAM", "PRO", "STUDIO"])
        #expect(catalog.tiers[0].limit == 5 && catalog.tiers[0].dailyLimit == 5)
        #expect(catalog.tiers[2].monthlyLimit == 100 && catalog.tiers[2].storageBytes == nil)

        config.tiers = ["FREE": TierOverride(period: "week")]
        #expect { try TestHost(TiersPlugin.self, config: config) } throws: { "\($0)".contains("tiers.FREE.period") }
        config.tiers = ["TEAM": TierOverride(limit: 10)]
        #expect { try TestHost(TiersPlugin.self, config: config) } throws: { "\($0)".contains("tiers.TEAM.price_usd") }
        config.tiers = [:]
        config.defaultTier = "GOLD"
        #expect { try TestHost(TiersPlugin.self, config: config) } throws: { "\($0)".contains("default_tier") }
    }

    @Test func subscriptionChangesFollowThePolicy() throws {
        let host = try host()
        let end = Self.t0.addingTimeInterval(3 * 86_400)
        try host.deliver(.subscriptionChanged, SubscriptionChanged(userId: "u1", tier: "PRO", status: "active", periodEnd: nil))
        #expect(try limits(host).tier == "PRO")
        // A failed payment is a grace period: the tier stays.
        try host.deliver(.subscriptionChanged, SubscriptionChanged(userId: "u1", tier: "PRO", status: "past_due", periodEnd: nil))
        #expect(try limits(host).tier == "PRO")
        #expect(try limits(host).subscription?.status == "past_due")
        // Canceled: paid until the period ends, then the default tier.
        try host.deliver(.subscriptionChanged, SubscriptionChanged(userId: "u1", tier: "PRO", status: "canceled", periodEnd: Int64(end.timeIntervalSince1970)))
        let pending = try limits(host)
        #expect(pending.tier == "PRO" && pending.subscription?.pendingTier == "FREE")
        #expect(pending.subscription?.pendingAt == end.iso8601 || pending.subscription?.pendingAt == Periods.iso(end))
        host.clock.set(end.addingTimeInterval(-1))
        #expect(try limits(host).tier == "PRO")
        host.clock.set(end)
        #expect(try limits(host).tier == "FREE")
        // Re-subscribing drops a pending downgrade; an unknown tier is logged, not applied.
        try host.deliver(.subscriptionChanged, SubscriptionChanged(userId: "u2", tier: "GOLD", status: "active", periodEnd: nil))
        #expect(try limits(host, "u2").tier == "FREE")
        #expect(host.logs.contains { $0.level == .error && $0.message.contains("unknown tier 'GOLD'") })
    }

    @Test func theTiersServiceAnswersForAnInstant() throws {
        let host = try host()
        try host.deliver(.subscriptionChanged, SubscriptionChanged(userId: "u1", tier: "CREATOR", status: "active", periodEnd: nil))
        let answer = try host.call(.tiersOf, TiersOf(userIds: ["u1", "u2"]))
        #expect(answer.users["u1"] == .init(tier: "CREATOR", paid: true))
        #expect(answer.users["u2"] == .init(tier: "FREE", paid: false))
        #expect { try host.call(.tiersOf, TiersOf(userIds: ["u1"], at: "yesterday")) } throws: { ($0 as? PluginError)?.code == "validation_failed" }
    }
}
