import Foundation
import Son1kContracts
import Son1kPluginKit
import Son1kPluginTesting
@testable import Son1kPool
import Testing

/// The community pool's ranking windows and points, on the test host, with the generation
/// and tiers plugins and the kernel's profiles stubbed.
@Suite struct PoolRulesTests {
    static let t0 = Date(iso8601: "2026-07-01T10:00:00Z")!
    static let day: TimeInterval = 86_400

    /// Songs the stubbed generation plugin knows: id → (owner, quality).
    static let songs: [String: (String, SongQuality)] = [
        "g1": ("u1", .ultra), "g2": ("u2", .standard), "g3": ("u2", .high), "g4": ("u2", .standard), "g5": ("u3", .high),
    ]

    func host() throws -> TestHost<PoolPlugin> {
        let host = try TestHost(PoolPlugin.self, clock: TestClock(start: Self.t0))
        host.stub(.generationLookup) { input in
            guard let (owner, quality) = Self.songs[input.generationId] else {
                throw PluginError.notFound("No generation \(input.generationId).", code: "generation_not_found")
            }
            return GenerationFacts(generationId: input.generationId, userId: owner, status: "completed", quality: quality, durationS: 30,
                                   genre: "pop", audioBlobId: "blob_\(input.generationId)", size: 1000, contentType: "audio/wav", finishedAt: nil)
        }
        host.stub(.tiersOf) { input in UserTiers(users: Dictionary(uniqueKeysWithValues: input.userIds.map { ($0, .init(tier: "PRO", paid: true)) })) }
        host.stub(.userProfiles) { input in
            UserProfiles(profiles: Dictionary(uniqueKeysWithValues: input.userIds.map { ($0, .init(userId: $0, username: "name-\($0)")) }))
        }
        return host
    }

    func share(_ host: TestHost<PoolPlugin>, _ generation: String) throws -> TestResponse {
        try host.request("POST", "/api/community/contribute", as: .user(Self.songs[generation]!.0), json: ["generation_id": generation])
    }

    /// (user, points) in rank order.
    func ranking(_ host: TestHost<PoolPlugin>, _ timeframe: String) throws -> [String] {
        let answer = try host.request("GET", "/api/community/ranking", as: .user("u9"), query: "timeframe=\(timeframe)").decode(JSONValue.self)
        return (answer["ranking"].array ?? []).map { "\($0["user_id"].string ?? "?"):\($0["points"].int ?? -1)" }
    }

    @Test func pointsCountOnlyInsideTheWindow() throws {
        let host = try host()
        #expect(try share(host, "g1").status == 201)               // u1: 3 points, day 0
        #expect(try share(host, "g2").status == 201)               // u2: 1 point, day 0
        #expect(try share(host, "g3").status == 201)               // u2: 2 points, day 0
        // A tie goes to whoever contributed first.
        #expect(try ranking(host, "week") == ["u1:3", "u2:3"])

        host.clock.advance(by: 8 * Self.day)
        #expect(try share(host, "g4").status == 201)               // u2: 1 point, day 8
        #expect(try ranking(host, "week") == ["u2:1"])
        #expect(try ranking(host, "month") == ["u2:4", "u1:3"])

        // Day 31: day 0 has left the 30-day window, day 8 has not.
        host.clock.advance(by: 23 * Self.day)
        #expect(try ranking(host, "month") == ["u2:1"])
        #expect(try ranking(host, "all_time") == ["u2:4", "u1:3"])
        #expect(try ranking(host, "week").isEmpty)
    }

    @Test func withdrawnSongsEarnNothingAndSharingTwiceCountsOnce() throws {
        let host = try host()
        let item = try share(host, "g5").decode(JSONValue.self)
        #expect(try share(host, "g5").status == 200)
        #expect(try ranking(host, "all_time") == ["u3:2"])
        let id = try #require(item["id"].string)
        // Its preview is asked of the queue once, however often it is shared.
        #expect(try host.enqueued(PreviewJob.self).map(\.itemId) == [id])
        #expect(host.request("DELETE", "/api/community/pool/\(id)", as: .user("u1")).status == 403)
        #expect(host.request("DELETE", "/api/community/pool/\(id)", as: .user("u3")).status < 300)
        #expect(try ranking(host, "all_time").isEmpty)
        // The generation's deletion withdraws it too, whoever shared it back meanwhile.
        #expect(try share(host, "g5").status == 200)
        try host.deliver(.generationDeleted, GenerationDeleted(generationId: "g5", userId: "u3", size: 1000, audioBlobId: "blob_g5"))
        #expect(try ranking(host, "all_time").isEmpty)
    }

    @Test func aTimeframeOutsideTheListIsRefused() throws {
        let host = try host()
        let answer = host.request("GET", "/api/community/ranking", as: .user("u1"), query: "timeframe=year")
        #expect(answer.status == 422 && answer.problem!.detail.contains("week, month, all_time"))
        #expect(host.request("GET", "/api/community/ranking").status == 401)
    }

    @Test func autoSharingPicksTheSameSongsEveryTime() {
        let ids = (0..<10_000).map { "gen_\($0)" }
        let chosen = ids.filter { Contributions.isSelected($0, percent: 5) }
        #expect((400...600).contains(chosen.count))
        #expect(ids.filter { Contributions.isSelected($0, percent: 5) } == chosen)
        #expect(!Contributions.isSelected("gen_1", percent: 0) && Contributions.isSelected("gen_1", percent: 100))
    }
}
