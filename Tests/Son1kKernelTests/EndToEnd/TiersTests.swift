import Foundation
import Son1kMusicEngine
import Son1kPluginKit
import Testing

/// The tiers plugin over real HTTP, in front of the generation plugin: limits counted by the
/// server only, under concurrency, across UTC boundaries (a fake clock), and given back when
/// a generation does not deliver.
@Suite(.serialized) struct TiersTests {
    static let queueOnly: JSONValue = ["builtin_workers": 0]

    @Test func aFreeUserSeesThreeTwoOneZeroThenIsRefusedWithRetryAfter() async throws {
        let k = try await TestKernel.start([.generation(Self.queueOnly), .tiers()])
        defer { k.stop() }
        let me = try await k.register("freebie")
        let catalog = try await k.request("GET", "/api/tiers").json
        #expect(catalog["tiers"].array?.map { $0["id"] } == ["FREE", "CREATOR", "PRO", "STUDIO"])
        #expect(catalog["tiers"].array?.map { $0["price_usd"] } == [0, 9.99, 29.99, 99.99])

        var limits = try await k.limits(me.token)
        #expect(limits["tier"] == "FREE" && limits["limits"]["remaining"] == 3 && limits["limits"]["can_generate"] == true)
        #expect(limits["config"]["daily_limit"] == 3 && limits["config"]["qualities"] == ["standard"])
        #expect(limits["limits"]["reset_at"].string?.hasSuffix("T00:00:00Z") == true)
        for expected in [2, 1, 0] {
            _ = try await k.generate(me.token, ["prompt": "a song", "duration_s": 5])
            limits = try await k.limits(me.token)
            #expect(limits["limits"]["remaining"].int == expected && limits["usage"]["today"].int == 3 - expected)
        }
        #expect(limits["limits"]["can_generate"] == false && limits["limits"]["reason"] == "daily_limit_reached")
        let fourth = try await k.request("POST", "/api/generations", token: me.token, json: ["prompt": "one more", "duration_s": 5])
        #expect(fourth.status == 429 && fourth.json["code"] == "daily_limit_reached")
        #expect(Int(fourth.headers["retry-after"] ?? "") ?? 0 > 0)
        #expect(fourth.headers["ratelimit-limit"] == "3" && fourth.headers["ratelimit-remaining"] == "0")
        #expect(try await k.request("GET", "/api/generations", token: me.token).json["items"].array?.count == 3, "nothing stored for the refusal")

        let other = try await k.register("wants-hifi")
        let high = try await k.request("POST", "/api/generations", token: other.token, json: ["prompt": "hi-fi", "quality": "high"])
        #expect(high.status == 403 && high.json["code"] == "quality_not_allowed" && high.json["detail"].string?.contains("standard") == true)
        #expect(try await k.limits(other.token)["limits"]["remaining"] == 3, "a refusal takes no slot")
        let stats = try await k.request("GET", "/api/admin/tiers/stats", token: try await k.adminToken()).json
        #expect(stats["rejections_since_start"] == ["daily_limit_reached": 1, "quality_not_allowed": 1])
        #expect(stats["generations"]["today"] == 3 && stats["users_per_tier"]["FREE"] == 1)
    }

    @Test func oneHundredConcurrentRequestsTakeExactlyThreeSlots() async throws {
        let k = try await TestKernel.start([.generation(Self.queueOnly), .tiers()])
        defer { k.stop() }
        for round in 1...5 {
            let viaGenerations = try await k.register("burst-g\(round)")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for n in 0..<100 {
                    group.addTask { try await k.request("POST", "/api/generations", token: viaGenerations.token, json: ["prompt": .string("song \(n)"), "duration_s": 5]).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 202 }.count == 3 && statuses.filter { $0 == 429 }.count == 97, "round \(round): \(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
            #expect(try await k.limits(viaGenerations.token)["usage"]["today"] == 3)
            #expect(try await k.request("GET", "/api/generations", token: viaGenerations.token).json["items"].array?.count == 3)

            let viaRecord = try await k.register("burst-r\(round)")
            let recorded = try await withThrowingTaskGroup(of: Int.self) { group in
                for n in 0..<100 {
                    group.addTask { try await k.request("POST", "/api/tiers/record-generation", token: viaRecord.token, json: ["generation_id": .string("ext-\(round)-\(n)"), "quality": "standard"]).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(recorded.filter { $0 == 201 }.count == 3 && recorded.filter { $0 == 429 }.count == 97, "round \(round): \(Dictionary(grouping: recorded, by: { $0 }).mapValues(\.count))")
            #expect(try await k.limits(viaRecord.token)["usage"]["today"] == 3)
        }
    }

    @Test func failedAndCancelledGenerationsGiveTheirSlotBackCompletedOnesDoNot() async throws {
        let k = try await TestKernel.start([.generation(Self.queueOnly), .tiers()])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let worker = try await k.apiToken(role: "worker", admin: admin)
        let me = try await k.register("refund")
        var ids: [String] = []
        for n in 1...3 { ids.append(try await k.generate(me.token, ["prompt": .string("song \(n)"), "duration_s": 5])["id"].string!) }
        #expect(try await k.limits(me.token)["limits"]["remaining"] == 0)

        #expect(try await k.request("POST", "/api/generations/\(ids[0])/cancel", token: me.token).status == 200)
        _ = try await poll("the cancelled slot to come back") { try await k.limits(me.token)["limits"]["remaining"] == 1 ? true : nil }

        func lease() async throws -> JSONValue {
            try await k.request("POST", "/api/worker/jobs/next", token: worker, json: ["worker_id": "w", "wait_s": 2]).json
        }
        let failing = try await lease()
        #expect(try await k.request("POST", "/api/worker/jobs/\(failing["id"].string!)/fail", token: worker,
                                    json: ["worker_id": "w", "lease_id": failing["lease_id"], "error": "no", "retryable": false]).status == 200)
        _ = try await poll("the failed slot to come back") { try await k.limits(me.token)["limits"]["remaining"] == 2 ? true : nil }

        let succeeding = try await lease()
        let wav = WAV.encode(interleaved: [Float](repeating: 0.1, count: 800), sampleRate: 8000, channels: 1)
        let done = try await k.request("POST", "/api/worker/jobs/\(succeeding["id"].string!)/complete?worker_id=w&lease_id=\(succeeding["lease_id"].string!)",
                                       token: worker, body: wav, headers: ["Content-Type": "audio/wav"])
        #expect(done.status == 200)
        let after = try await poll("the completed generation's storage to count") { () -> JSONValue? in
            let l = try await k.limits(me.token)
            guard l["usage"]["storage_bytes"].int == wav.count else { return nil }
            return l
        }
        #expect(after["limits"]["remaining"] == 2, "a completed generation keeps its slot")
    }

    @Test func storageOverTheTierIsDeliveredThenBlocksUntilSpaceIsFreed() async throws {
        let k = try await TestKernel.start([.generation(Self.queueOnly), .tiers(["tiers": ["FREE": ["storage_bytes": 1000, "limit": 10]]])])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let worker = try await k.apiToken(role: "worker", admin: admin)
        let me = try await k.register("hoarder")
        let job = try await k.generate(me.token, ["prompt": "big", "duration_s": 5])
        let lease = try await k.request("POST", "/api/worker/jobs/next", token: worker, json: ["worker_id": "w", "wait_s": 2]).json
        let wav = WAV.encode(interleaved: [Float](repeating: 0.1, count: 4000), sampleRate: 8000, channels: 1)
        #expect(try await k.request("POST", "/api/worker/jobs/\(lease["id"].string!)/complete?worker_id=w&lease_id=\(lease["lease_id"].string!)",
                                    token: worker, body: wav, headers: ["Content-Type": "audio/wav"]).status == 200)
        #expect(sameBytes(try await k.request("GET", "/api/generations/\(job["id"].string!)/audio", token: me.token).body, wav).equal, "delivered past the quota")
        let blocked = try await poll("the storage quota to apply") { () -> TestResponse? in
            let r = try await k.request("POST", "/api/generations", token: me.token, json: ["prompt": "more", "duration_s": 5])
            return r.status == 403 ? r : nil
        }
        #expect(blocked.json["code"] == "storage_quota_exceeded")
        #expect(try await k.limits(me.token)["limits"]["reason"] == "storage_quota_exceeded")
        #expect(try await k.request("DELETE", "/api/generations/\(job["id"].string!)", token: me.token).status == 204)
        _ = try await poll("the space to be freed") { try await k.limits(me.token)["usage"]["storage_bytes"] == 0 ? true : nil }
        #expect(try await k.request("POST", "/api/generations", token: me.token, json: ["prompt": "more", "duration_s": 5]).status == 202)
    }

    @Test func limitsResetAtMidnightAndOnTheFirstOfTheMonthUTC() async throws {
        let clock = TestKernel.clockFile()
        defer { try? FileManager.default.removeItem(at: clock) }
        try setClock(clock, "2026-03-31T23:59:59Z")
        let k = try await TestKernel.start([.generation(Self.queueOnly), .tiers(["tiers": ["CREATOR": ["limit": 2]]])],
                                           environment: ["SON1K_TEST_CLOCK_FILE": clock.path])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let daily = try await k.register("daily")
        for _ in 1...3 { _ = try await k.generate(daily.token, ["prompt": "late night", "duration_s": 5]) }
        let refused = try await k.request("POST", "/api/generations", token: daily.token, json: ["prompt": "too late", "duration_s": 5])
        #expect(refused.status == 429 && refused.headers["retry-after"] == "1")
        #expect(try await k.limits(daily.token)["limits"]["reset_at"] == "2026-04-01T00:00:00Z")

        let monthly = try await k.register("monthly")
        #expect(try await k.request("PUT", "/api/tiers/users/\(monthly.id)", token: admin, json: ["tier": "CREATOR"]).status == 200)
        for _ in 1...2 { _ = try await k.generate(monthly.token, ["prompt": "end of month", "duration_s": 5]) }
        let overMonth = try await k.request("POST", "/api/generations", token: monthly.token, json: ["prompt": "one more", "duration_s": 5])
        #expect(overMonth.status == 429 && overMonth.json["code"] == "monthly_limit_reached" && overMonth.headers["retry-after"] == "1")
        #expect(try await k.limits(monthly.token)["limits"]["reset_at"] == "2026-04-01T00:00:00Z")

        try setClock(clock, "2026-04-01T00:00:00Z")
        var limits = try await k.limits(daily.token)
        #expect(limits["limits"]["remaining"] == 3 && limits["usage"]["today"] == 0 && limits["limits"]["reset_at"] == "2026-04-02T00:00:00Z")
        _ = try await k.generate(daily.token, ["prompt": "new day", "duration_s": 5])
        _ = try await k.generate(monthly.token, ["prompt": "new month", "duration_s": 5])
        limits = try await k.limits(monthly.token)
        #expect(limits["usage"]["this_month"] == 1 && limits["limits"]["remaining"] == 1 && limits["limits"]["reset_at"] == "2026-05-01T00:00:00Z")

        // Mid-month, the daily user still has today's count only.
        try setClock(clock, "2026-04-15T12:00:00Z")
        limits = try await k.limits(daily.token)
        #expect(limits["limits"]["remaining"] == 3 && limits["usage"]["this_month"] == 1)
    }

    @Test func limitsArePrivateTiersChangeOnlyByAdminsAndBillingEvents() async throws {
        let clock = TestKernel.clockFile()
        defer { try? FileManager.default.removeItem(at: clock) }
        try setClock(clock, "2026-06-10T10:00:00Z")
        let k = try await TestKernel.start([.hello, .faulty(), .generation(Self.queueOnly), .tiers()], environment: ["SON1K_TEST_CLOCK_FILE": clock.path])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let me = try await k.register("private")
        let other = try await k.register("curious")
        #expect(try await k.request("GET", "/api/tiers/limits/\(me.id)", token: other.token).status == 403)
        #expect(try await k.request("GET", "/api/tiers/limits/\(me.id)", token: me.token).json["tier"] == "FREE")
        #expect(try await k.request("GET", "/api/tiers/limits/\(me.id)", token: admin).status == 200)
        #expect(try await k.request("GET", "/api/tiers/limits/me").status == 401)
        #expect(try await k.request("PUT", "/api/tiers/users/\(me.id)", token: me.token, json: ["tier": "STUDIO"]).status == 403)
        let god = try await k.request("PUT", "/api/tiers/users/\(me.id)", token: admin, json: ["tier": "GOD"])
        #expect(god.status == 422 && god.json["detail"].string?.hasPrefix("tier") == true)
        #expect(try await k.request("POST", "/api/tiers/record-generation", token: me.token,
                                    json: ["generation_id": "x1", "user_id": .string(other.id)]).status == 403)
        #expect(try await k.request("POST", "/api/tiers/record-generation", token: me.token, json: ["generation_id": "x1"]).json["remaining"] == 2)
        let duplicate = try await k.request("POST", "/api/tiers/record-generation", token: me.token, json: ["generation_id": "x1"])
        #expect(duplicate.status == 409 && duplicate.json["code"] == "duplicate_generation")
        #expect(try await k.request("POST", "/api/tiers/record-generation", token: me.token, json: ["generation_id": "x2", "quality": "gold"]).status == 422)

        // billing.subscription_changed: active → the tier; past_due keeps it; canceled → FREE at period end.
        func billing(_ status: String, tier: String = "PRO", periodEnd: String? = nil) async throws {
            var data: JSONValue = ["user_id": .string(me.id), "tier": .string(tier), "status": .string(status)]
            // As billing publishes it: seconds since 1970, Stripe's form.
            if let periodEnd, let end = Date(iso8601: periodEnd) { data["period_end"] = .integer(end.epochMs / 1000) }
            #expect(try await k.request("POST", "/api/faulty/publish", token: admin,
                                        json: ["topic": "billing.subscription_changed", "user_id": .string(me.id), "data": data]).status == 200)
        }
        try await billing("active")
        _ = try await poll("the subscription to apply") { try await k.limits(me.token)["tier"] == "PRO" ? true : nil }
        #expect(try await k.limits(me.token)["limits"]["remaining"] == 199, "the month's usage carries over")
        try await billing("past_due")
        _ = try await poll("past_due to be recorded") { try await k.limits(me.token)["subscription"]["status"] == "past_due" ? true : nil }
        #expect(try await k.limits(me.token)["tier"] == "PRO")
        try await billing("canceled", periodEnd: "2026-06-30T00:00:00Z")
        let pending = try await poll("the downgrade to be scheduled") { () -> JSONValue? in
            let l = try await k.limits(me.token)
            guard l["subscription"]["pending_tier"] == "FREE" else { return nil }
            return l
        }
        #expect(pending["tier"] == "PRO" && pending["subscription"]["pending_at"] == "2026-06-30T00:00:00Z")
        try setClock(clock, "2026-06-30T00:00:01Z")
        #expect(try await k.limits(me.token)["tier"] == "FREE")

        let stats = try await k.request("GET", "/api/admin/tiers/stats", token: admin)
        #expect(stats.status == 200 && stats.json["users_per_tier"]["FREE"].int == 1 && stats.json["users_per_tier"]["PRO"].int == 0)
        #expect(stats.json["generations"]["this_month"].int == 1 && stats.json["generations"]["today"].int == 0)
        #expect(try await k.request("GET", "/api/admin/tiers/stats", token: me.token).status == 403)
    }

    @Test func configOverridesApplyAndInvalidOnesDisableOnlyThisPlugin() async throws {
        let k = try await TestKernel.start([.generation(Self.queueOnly), .tiers(["tiers": ["FREE": ["limit": 5]]])])
        defer { k.stop() }
        let me = try await k.register("five")
        #expect(try await k.limits(me.token)["limits"]["remaining"] == 5)

        // A value of the wrong type is refused by the config's schema before the plugin starts,
        // so its routes are never mounted (404); one the plugin's own rules refuse fails its
        // start, and its routes answer 503.
        for (config, field, status) in [(["tiers": ["FREE": ["limit": -3]]], "tiers.FREE.limit", 503),
                                        (["tiers": ["FREE": ["qualities": ["gold"]]]], "tiers.FREE.qualities", 503),
                                        (["default_tier": "GOD"], "default_tier", 503),
                                        (["tiers": ["FREE": ["limit": "five"]]], "tiers.FREE.limit: expected integer", 404)] as [(JSONValue, String, Int)] {
            try k.reconfigure([.generation(Self.queueOnly), .tiers(config)])
            k.kill()
            try await k.launch()
            let plugin = try await k.plugin("tiers")
            #expect(plugin["state"] != "running" && plugin["reason"].string?.contains(field) == true, "\(config): \(plugin)")
            #expect(try await k.plugin("generation")["state"] == "running")
            #expect(try await k.request("GET", "/api/tiers/limits/me", token: me.token).status == status, "\(config)")
        }
    }

    @Test func anOptionalHourlyLimitResetsOnTheHour() async throws {
        let clock = TestKernel.clockFile()
        defer { try? FileManager.default.removeItem(at: clock) }
        try setClock(clock, "2026-05-05T10:59:00Z")
        let k = try await TestKernel.start([.generation(Self.queueOnly), .tiers(["tiers": ["FREE": ["limit": 10, "per_hour": 2]]])],
                                           environment: ["SON1K_TEST_CLOCK_FILE": clock.path])
        defer { k.stop() }
        let me = try await k.register("hourly")
        for _ in 1...2 { _ = try await k.generate(me.token, ["prompt": "quick", "duration_s": 5]) }
        let third = try await k.request("POST", "/api/generations", token: me.token, json: ["prompt": "too quick", "duration_s": 5])
        #expect(third.status == 429 && third.json["code"] == "hourly_limit_reached" && third.headers["retry-after"] == "60")
        var limits = try await k.limits(me.token)
        #expect(limits["limits"]["reason"] == "hourly_limit_reached" && limits["usage"]["this_hour"] == 2 && limits["limits"]["remaining"] == 8)
        try setClock(clock, "2026-05-05T11:00:00Z")
        _ = try await k.generate(me.token, ["prompt": "next hour", "duration_s": 5])
        limits = try await k.limits(me.token)
        #expect(limits["usage"]["this_hour"] == 1 && limits["usage"]["today"] == 3 && limits["limits"]["can_generate"] == true)
    }

    @Test func recordingsBatchedTogetherStayExactPerUserAndPerId() async throws {
        let k = try await TestKernel.start([.tiers()])
        defer { k.stop() }
        let users = [try await k.register("batch-a"), try await k.register("batch-b"), try await k.register("batch-c")]
        let repeater = try await k.register("batch-d")
        // 3 users × 40 concurrent unique ids, while a fourth sends one id 30 times.
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for (u, user) in users.enumerated() {
                for n in 0..<40 {
                    group.addTask { (u, try await k.request("POST", "/api/tiers/record-generation", token: user.token, json: ["generation_id": .string("b-\(u)-\(n)")]).status) }
                }
            }
            for _ in 0..<30 {
                group.addTask { (9, try await k.request("POST", "/api/tiers/record-generation", token: repeater.token, json: ["generation_id": "same-id"]).status) }
            }
            return try await group.reduce(into: [(Int, Int)]()) { $0.append($1) }
        }
        for u in 0..<3 {
            let statuses = results.filter { $0.0 == u }.map(\.1)
            #expect(statuses.filter { $0 == 201 }.count == 3 && statuses.filter { $0 == 429 }.count == 37, "user \(u): \(statuses)")
            #expect(try await k.limits(users[u].token)["usage"]["today"].int == 3, "user \(u)")
        }
        let same = results.filter { $0.0 == 9 }.map(\.1)
        #expect(same.filter { $0 == 201 }.count == 1 && same.filter { $0 == 409 }.count == 29, "one id is recorded once: \(same)")
        #expect(try await k.limits(repeater.token)["usage"]["today"].int == 1)
    }
}

