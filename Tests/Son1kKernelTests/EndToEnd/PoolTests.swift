import Foundation
import Son1kPluginKit
import Testing

extension PluginSpec {
    static func pool(_ config: JSONValue = [:]) -> PluginSpec {
        PluginSpec(name: "pool", library: "Son1kPool", config: config)
    }
}

extension TestKernel {
    /// Make a user of `tier` (through the admin route).
    func user(_ name: String, tier: String) async throws -> (id: String, token: String) {
        let u = try await register(name)
        if tier != "FREE" {
            let r = try await request("PUT", "/api/tiers/users/\(u.id)", token: try await adminToken(), json: ["tier": .string(tier)])
            guard r.status == 200 else { throw TestFailure("tier change: \(r)") }
        }
        return u
    }

    /// Generate a short song and wait for it to complete; returns the job.
    func song(_ token: String, quality: String = "standard", genre: String = "pop") async throws -> JSONValue {
        let job = try await generate(token, ["prompt": "a short song", "duration_s": 5, "quality": .string(quality), "genre": .string(genre)])
        return try await self.job(job["id"].string ?? "", token, until: ["completed"])
    }

    func pool(_ token: String, _ query: String = "") async throws -> JSONValue {
        let r = try await request("GET", "/api/community/pool" + query, token: token)
        guard r.status == 200 else { throw TestFailure("pool: \(r)") }
        return r.json
    }
}

/// The community pool over real HTTP, with real generations (the procedural engine), real
/// tiers and real blobs: automatic and explicit sharing, claims under concurrency, likes,
/// plays and the windowed ranking on a fake clock.
@Suite(.serialized) struct PoolTests {
    static let oneWorker: JSONValue = ["builtin_workers": 1]

    /// Generation, tiers and a pool that takes only explicit shares, on a fake clock set to `iso`.
    static func startSharingOnly(at iso: String) async throws -> (TestKernel, URL) {
        let clock = TestKernel.clockFile()
        try setClock(clock, iso)
        let k = try await TestKernel.start([.generation(oneWorker), .tiers(), .pool(["auto_share_percent": 0])],
                                           environment: ["SON1K_TEST_CLOCK_FILE": clock.path])
        return (k, clock)
    }

    @Test func paidUsersSongsEnterThePoolOnceEvenWhenDeliveredTwice() async throws {
        let k = try await TestKernel.start([.hello, .faulty(), .generation(Self.oneWorker), .tiers(), .pool(["auto_share_percent": 100])])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let creator = try await k.user("creator", tier: "CREATOR")
        let free = try await k.user("freeloader", tier: "FREE")
        let songs = [try await k.song(creator.token, quality: "high"), try await k.song(creator.token)]
        _ = try await k.song(free.token)
        let page = try await poll("both paid songs to be shared") { () -> JSONValue? in
            let p = try await k.pool(creator.token)
            guard p["items"].array?.count == 2, try await k.undelivered(to: "pool") == 0 else { return nil }
            return p
        }
        let items = page["items"].array ?? []
        #expect(Set(items.compactMap { $0["generation_id"].string }) == Set(songs.compactMap { $0["id"].string }), "the FREE user's song stays out")
        #expect(items.allSatisfy { $0["source"] == "auto" && $0["contributor"]["username"] == "creator" && $0["contributor"]["user_id"].string == creator.id })
        #expect(items.map(\.["points"]).sorted { ($0.int ?? 0) < ($1.int ?? 0) } == [1, 2], "points from the stored quality")
        #expect(items.allSatisfy { $0["audio_url"].string?.hasPrefix("/api/media/") == true && $0["audio_kind"] == "full" },
                "the contributor can play their own songs")

        // A second delivery of the same completion (a new event, same generation) adds nothing.
        let first = try await k.values("SELECT data FROM kernel_events WHERE topic = 'generation.completed' AND \(k.jsonField("data", "generation_id")) = ?",
                                       [.text(songs[0]["id"].string ?? "")]).first?.string
        let replay = try JSONValue.parse(Array((first ?? "").utf8))
        #expect(try await k.request("POST", "/api/faulty/publish", token: admin,
                                    json: ["topic": "generation.completed", "user_id": .string(creator.id), "data": replay]).status == 200)
        _ = try await poll("the replay to be delivered") { try await k.undelivered(to: "pool") == 0 ? true : nil }
        #expect(try await k.pool(creator.token)["items"].array?.count == 2)
        let stats = try await k.request("GET", "/api/admin/community/stats", token: admin).json
        #expect(stats["pool_size"] == 2 && stats["contributions_by_tier"] == ["CREATOR": 2])
    }

    @Test func fivePercentOfTwoThousandIdsAreChosenReproducibly() async throws {
        let k = try await TestKernel.start([.hello, .faulty(), .generation(["builtin_workers": 0]), .tiers(), .pool()])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let creator = try await k.user("prolific", tier: "PRO")
        // Synthetic completions (the pool stores the blob id; nothing here is claimed).
        let count = 2000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<8 {
                group.addTask {
                    for n in stride(from: lane, to: count, by: 8) {
                        let data: JSONValue = ["generation_id": .string("synthetic-\(n)"), "user_id": .string(creator.id), "quality": "standard",
                                               "duration_s": 5, "engine": "procedural", "seed": .integer(Int64(n)), "attempts": 1,
                                               "audio_blob_id": "blob-none", "size": 1, "content_type": "audio/wav"]
                        let r = try await k.request("POST", "/api/faulty/publish", token: admin,
                                                    json: ["topic": "generation.completed", "user_id": .string(creator.id), "data": data])
                        guard r.status == 200 else { throw TestFailure("publish: \(r)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        _ = try await poll("2000 completions to be delivered", timeout: .seconds(120), every: .milliseconds(200)) {
            try await k.undelivered(to: "pool") == 0 ? true : nil
        }
        let chosen = try await k.request("GET", "/api/admin/community/stats", token: admin).json["pool_size"].int ?? 0
        #expect((60...140).contains(chosen), "\(chosen) of \(count) chosen at 5%")
    }

    @Test func freeUsersClaimThreeADayNeverTheSameTwiceAndNeverMore() async throws {
        let (k, clock) = try await Self.startSharingOnly(at: "2026-03-10T12:00:00Z")
        defer { k.stop() }
        let pro = try await k.user("pro", tier: "PRO")
        let free = try await k.user("free-a", tier: "FREE")
        let empty = try await k.request("POST", "/api/community/pool/claim", token: free.token)
        #expect(empty.status == 404 && empty.json["code"] == "pool_empty")

        var shared: [String] = []
        for _ in 0..<5 {
            let song = try await k.song(pro.token)
            let r = try await k.request("POST", "/api/community/contribute", token: pro.token, json: ["generation_id": song["id"]])
            #expect(r.status == 201 && r.json["source"] == "shared")
            shared.append(r.json["id"].string ?? "")
        }
        let proClaim = try await k.request("POST", "/api/community/pool/claim", token: pro.token)
        #expect(proClaim.status == 403 && proClaim.json["code"] == "not_free_tier")

        var claimed: [String] = []
        for expected in [2, 1, 0] {
            let r = try await k.request("POST", "/api/community/pool/claim", token: free.token)
            #expect(r.status == 201 && r.json["remaining_today"].int == expected, "\(r)")
            claimed.append(r.json["item"]["id"].string ?? "")
            // The claimed audio is the user's through the blob route, byte for byte the original.
            let url = r.json["item"]["audio_url"].string ?? ""
            let mine = try await k.request("GET", url, token: free.token)
            let original = try await k.request("GET", "/api/generations/\(r.json["item"]["generation_id"].string ?? "")/audio", token: pro.token)
            #expect(mine.status == 200 && sameBytes(mine.body, original.body).equal)
        }
        #expect(Set(claimed).count == 3 && Set(claimed).isSubset(of: Set(shared)))
        let fourth = try await k.request("POST", "/api/community/pool/claim", token: free.token)
        #expect(fourth.status == 429 && fourth.json["code"] == "daily_claim_limit")
        #expect(Int(fourth.headers["retry-after"] ?? "") == 12 * 3600, "until midnight UTC")
        let mine = try await k.request("GET", "/api/community/claims", token: free.token).json
        #expect(Set(mine["items"].array?.compactMap { $0["item"]["id"].string } ?? []) == Set(claimed))
        // The claimed copy is the claimer's alone: its signed URL is only in their answers, and
        // the blob itself is theirs.
        let stranger = try await k.user("free-b", tier: "FREE")
        let copyURL = mine["items"][0]["audio_url"].string ?? ""
        let copyBlob = URLComponents(string: copyURL)?.path.components(separatedBy: "/").last ?? ""
        #expect(try await k.request("GET", "/api/blobs/\(copyBlob)", token: stranger.token).status == 404, "a claimed copy is its claimer's alone")
        let strangersView = try await k.request("GET", "/api/community/pool/\(mine["items"][0]["item"]["id"].string ?? "")", token: stranger.token).json
        #expect(strangersView["audio_kind"] != "full" && strangersView["audio_url"].string != copyURL)

        // The next UTC day: the two songs left, then nothing new.
        try setClock(clock, "2026-03-11T00:00:01Z")
        var later: [String] = []
        for _ in 0..<2 {
            let r = try await k.request("POST", "/api/community/pool/claim", token: free.token)
            #expect(r.status == 201)
            later.append(r.json["item"]["id"].string ?? "")
        }
        #expect(Set(later).isDisjoint(with: Set(claimed)))
        let exhausted = try await k.request("POST", "/api/community/pool/claim", token: free.token)
        #expect(exhausted.status == 404 && exhausted.json["code"] == "nothing_new")

        // 50 concurrent claims by one FREE user: exactly 3 pass, each a different song.
        for round in 1...2 {
            let racer = try await k.user("racer-\(round)", tier: "FREE")
            let results = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<50 { group.addTask { try await k.request("POST", "/api/community/pool/claim", token: racer.token) } }
                return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
            }
            let won = results.filter { $0.status == 201 }.compactMap { $0.json["item"]["id"].string }
            #expect(won.count == 3 && Set(won).count == 3, "round \(round): \(Dictionary(grouping: results.map(\.status), by: { $0 }).mapValues(\.count))")
            #expect(results.filter { $0.status == 429 }.count == 47)
        }

        // A FREE user never gets their own song back.
        let sharer = try await k.user("free-sharer", tier: "FREE")
        let own = try await k.song(sharer.token)
        let ownItem = try await k.request("POST", "/api/community/contribute", token: sharer.token, json: ["generation_id": own["id"]])
        #expect(ownItem.status == 201)
        var got: Set<String> = []
        for _ in 0..<3 { got.insert(try await k.request("POST", "/api/community/pool/claim", token: sharer.token).json["item"]["id"].string ?? "") }
        #expect(!got.contains(ownItem.json["id"].string ?? "") && got.count == 3)
    }

    @Test func sharingTakesTheStoredQualityOnceAndListsValidateTheirQuery() async throws {
        let k = try await TestKernel.start([.generation(Self.oneWorker), .tiers(), .pool(["auto_share_percent": 0])])
        defer { k.stop() }
        let owner = try await k.user("owner", tier: "STUDIO")
        let other = try await k.user("other", tier: "FREE")
        let song = try await k.song(owner.token)
        let first = try await k.request("POST", "/api/community/contribute", token: owner.token,
                                        json: ["generation_id": song["id"], "quality": "ultra", "points": 99])
        #expect(first.status == 201 && first.json["quality"] == "standard" && first.json["points"] == 1, "\(first)")
        let again = try await k.request("POST", "/api/community/contribute", token: owner.token, json: ["generation_id": song["id"]])
        #expect(again.status == 200 && again.json["id"] == first.json["id"])
        #expect(try await k.pool(owner.token)["items"].array?.count == 1)
        let notMine = try await k.request("POST", "/api/community/contribute", token: other.token, json: ["generation_id": song["id"]])
        #expect(notMine.status == 404 && notMine.json["code"] == "generation_not_found")
        let unfinished = try await k.generate(owner.token, ["prompt": "never mind", "duration_s": 240, "quality": "ultra"])
        #expect(try await k.request("POST", "/api/generations/\(unfinished["id"].string ?? "")/cancel", token: owner.token).status == 200)
        let early = try await k.request("POST", "/api/community/contribute", token: owner.token, json: ["generation_id": unfinished["id"]])
        #expect(early.status == 409 && early.json["code"] == "not_completed", "\(early)")
        #expect(try await k.request("POST", "/api/community/contribute", token: owner.token, json: ["generation": "x"]).status == 422)

        let badSort = try await k.request("GET", "/api/community/pool?sort_by=loudest", token: other.token)
        #expect(badSort.status == 422 && badSort.json["detail"].string?.contains("sort_by") == true)
        #expect(try await k.request("GET", "/api/community/pool?limit=1000", token: other.token).status == 422)
        #expect(try await k.request("GET", "/api/community/pool?cursor=nonsense", token: other.token).status == 422)
        #expect(try await k.request("GET", "/api/community/pool").status == 401)
        // Not claimed, not theirs: the preview, once the pool made it, and never the song.
        let seen = try await poll("the item's preview") { () -> JSONValue? in
            let item = try await k.pool(other.token)["items"][0]
            guard item["preview_url"].string != nil else { return nil }
            return item
        }
        #expect(seen["audio_kind"] == "preview" && seen["audio_url"] == seen["preview_url"] && seen["claimed"] == false, "\(seen)")
    }

    @Test func likesAndPlaysCountOncePerUserAndWithdrawnItemsLeave() async throws {
        let (k, clock) = try await Self.startSharingOnly(at: "2026-05-01T10:00:00Z")
        defer { k.stop() }
        let owner = try await k.user("maker", tier: "CREATOR")
        let fan = try await k.user("fan", tier: "FREE")
        var items: [String] = []
        for _ in 0..<2 {
            let song = try await k.song(owner.token)
            items.append(try await k.request("POST", "/api/community/contribute", token: owner.token, json: ["generation_id": song["id"]]).json["id"].string ?? "")
        }
        let liked = items[0]
        let likes = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<100 { group.addTask { try await k.request("POST", "/api/community/pool/like/\(liked)", token: fan.token).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(likes.allSatisfy { $0 == 200 })
        #expect(try await k.request("GET", "/api/community/pool/\(items[0])", token: fan.token).json["likes"] == 1)
        #expect(try await k.pool(fan.token, "?sort_by=likes")["items"][0]["id"].string == items[0])
        let unlike = try await k.request("DELETE", "/api/community/pool/like/\(items[0])", token: fan.token)
        #expect(unlike.status == 200 && unlike.json["likes"] == 0)
        #expect(try await k.request("POST", "/api/community/pool/like/pit_missing", token: fan.token).status == 404)

        for _ in 0..<5 { _ = try await k.request("POST", "/api/community/pool/\(items[1])/play", token: fan.token) }
        #expect(try await k.request("GET", "/api/community/pool/\(items[1])", token: fan.token).json["plays"] == 1)
        try setClock(clock, "2026-05-01T11:00:01Z")
        let hourLater = try await k.request("POST", "/api/community/pool/\(items[1])/play", token: fan.token)
        #expect(hourLater.json["counted"] == true && hourLater.json["plays"] == 2)
        #expect(try await k.pool(fan.token, "?sort_by=popular")["items"][0]["id"].string == items[1])

        // Cursor pages cover the pool once.
        let firstPage = try await k.pool(fan.token, "?limit=1")
        let cursor = firstPage["next_cursor"].string ?? ""
        let secondPage = try await k.pool(fan.token, "?limit=1&cursor=\(cursor)")
        #expect(secondPage["items"][0]["id"] != firstPage["items"][0]["id"] && secondPage["next_cursor"].isNull)

        // Withdrawal: the claimer keeps the song, the pool loses it.
        let claim = try await k.request("POST", "/api/community/pool/claim", token: fan.token)
        let claimedID = claim.json["item"]["id"].string ?? ""
        #expect(try await k.request("DELETE", "/api/community/pool/\(claimedID)", token: fan.token).status == 403)
        #expect(try await k.request("DELETE", "/api/community/pool/\(claimedID)", token: owner.token).status == 200)
        #expect(try await k.pool(fan.token)["items"].array?.map(\.["id"]) == [.string(items.first { $0 != claimedID } ?? "")])
        #expect(try await k.request("GET", claim.json["item"]["audio_url"].string ?? "", token: fan.token).status == 200)
    }

    @Test func theRankingCountsPointsEarnedInsideTheWindow() async throws {
        let (k, clock) = try await Self.startSharingOnly(at: "2026-06-01T12:00:00Z")
        defer { k.stop() }
        let veteran = try await k.user("veteran", tier: "PRO")
        let newcomer = try await k.user("newcomer", tier: "CREATOR")
        // Ten days ago the veteran shared an ultra song (3 points) ...
        try setClock(clock, "2026-05-22T12:00:00Z")
        let old = try await k.song(veteran.token, quality: "ultra")
        #expect(try await k.request("POST", "/api/community/contribute", token: veteran.token, json: ["generation_id": old["id"]]).status == 201)
        // ... and today the newcomer shares a standard one (1 point).
        try setClock(clock, "2026-06-01T12:00:00Z")
        let fresh = try await k.song(newcomer.token)
        #expect(try await k.request("POST", "/api/community/contribute", token: newcomer.token, json: ["generation_id": fresh["id"]]).status == 201)

        func ranking(_ timeframe: String) async throws -> [JSONValue] {
            let r = try await k.request("GET", "/api/community/ranking?timeframe=\(timeframe)", token: newcomer.token)
            #expect(r.status == 200 && r.json["timeframe"].string == timeframe, "\(r)")
            return r.json["ranking"].array ?? []
        }
        let week = try await ranking("week")
        try #require(week.map(\.["username"]) == ["newcomer"], "week: \(week)")
        #expect(week[0]["points"] == 1 && week[0]["rank"] == 1 && week[0]["tier"] == "CREATOR")
        for timeframe in ["month", "all_time"] {
            let r = try await ranking(timeframe)
            try #require(r.map(\.["username"]) == ["veteran", "newcomer"] && r.map(\.["points"]) == [3, 1], "\(timeframe): \(r)")
            #expect(r[0]["contributions"] == 1 && r[0]["tier"] == "PRO")
        }
        #expect(try await k.request("GET", "/api/community/ranking?timeframe=decade", token: newcomer.token).status == 422)
    }
}
