import Foundation
import Son1kPluginKit
import Testing

extension PluginSpec {
    /// A test plugin that adds a badge to every profile, through the profile hook alone.
    static let badges = PluginSpec(name: "badges", library: "Son1kTestBadges")
}

/// Public profiles (apps/web-classic UserProfile): what the owner edits, what others see, the
/// stats plugins contribute, and a badge from a plugin that neither the kernel nor the pool
/// knows about.
@Suite struct ProfileTests {
    /// The smallest PNG header this accepts, followed by `count` bytes of filler.
    static func png(_ count: Int) -> [UInt8] { [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: count) }

    @Test func aProfileShowsWhatTheOwnerChoseAndWhatPluginsCountToEveryoneElseWithoutPrivateFields() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 1]), .tiers(), .pool(["auto_share_percent": 0]), .badges])
        defer { k.stop() }
        let maker = try await k.user("maya", tier: "CREATOR")
        let fan = try await k.user("fan", tier: "FREE")
        let songs = [try await k.song(maker.token, quality: "high"), try await k.song(maker.token)]
        let shared = try await k.request("POST", "/api/community/contribute", token: maker.token, json: ["generation_id": songs[0]["id"]])
        #expect(shared.status == 201)
        #expect(try await k.request("POST", "/api/community/pool/claim", token: fan.token).status == 201)
        #expect(try await k.request("POST", "/api/community/pool/like/\(shared.json["id"].string ?? "")", token: fan.token).status == 200)

        let seen = try await k.request("GET", "/api/users/\(maker.id)/profile", token: fan.token)
        #expect(seen.status == 200, "\(seen)")
        let p = seen.json
        #expect(p["username"] == "maya" && p["display_name"] == "maya" && p["tier"] == "CREATOR" && p["joined_at"].string != nil)
        #expect(p["stats"]["songs_generated"] == 2 && p["stats"]["songs_shared"] == 1 && p["stats"]["points"] == 2, "\(p["stats"])")
        #expect(p["stats"]["likes_received"] == 1 && p["stats"]["claims"] == 0)
        #expect(p["badges"].array?.contains { $0["id"] == "early_adopter" && $0["name"] == "Early Adopter" } == true, "from the badges plugin")
        #expect(p["email"].isNull, "another user never sees the e-mail address")
        #expect(try await k.request("GET", "/api/users/\(fan.id)/profile", token: fan.token).json["stats"]["claims"] == 1)
        #expect(try await k.request("GET", "/api/users/\(maker.id)/profile", token: maker.token).json["email"] == "maya@test.local")
        #expect(try await k.request("GET", "/api/users/\(maker.id)/profile").status == 401)
        #expect(try await k.request("GET", "/api/users/usr_nobody/profile", token: fan.token).status == 404)

        // The generated picture, public for <img src>.
        let avatarURL = try #require(p["avatar"].string)
        let generated = try await k.request("GET", avatarURL)
        #expect(generated.status == 200 && generated.headers["content-type"] == "image/svg+xml" && generated.text.contains("<svg"))

        // The owner edits; others see it; nobody else may.
        let edited = try await k.request("PATCH", "/api/users/\(maker.id)/profile", token: maker.token, json: ["display_name": "Maya R.", "bio": "Synths at dawn."])
        #expect(edited.status == 200 && edited.json["display_name"] == "Maya R." && edited.json["bio"] == "Synths at dawn.", "\(edited)")
        #expect(try await k.request("PATCH", "/api/users/\(maker.id)/profile", token: fan.token, json: ["bio": "hacked"]).status == 403)
        let picture = Self.png(2000)
        let put = try await k.request("PUT", "/api/users/\(maker.id)/avatar", token: maker.token, body: picture, headers: ["Content-Type": "image/png"])
        #expect(put.status == 200 && put.json["avatar"].string == avatarURL, "\(put)")
        let served = try await k.request("GET", avatarURL)
        #expect(served.status == 200 && served.headers["content-type"] == "image/png" && served.body == picture)
        let public_ = try await k.request("GET", "/api/users/\(maker.id)/profile", token: fan.token).json
        #expect(public_["display_name"] == "Maya R." && public_["bio"] == "Synths at dawn." && public_["email"].isNull)
        // The pool's contributor names come from the same profiles.
        #expect(try await k.request("GET", "/api/community/ranking?timeframe=all_time", token: fan.token).json["ranking"][0]["avatar"].string == avatarURL)
    }

    @Test func badInputIsRefusedAndNothingPartialIsStored() async throws {
        let k = try await TestKernel.start([.hello])
        defer { k.stop() }
        let me = try await k.register("carla")
        let path = "/api/users/\(me.id)/profile"
        #expect(try await k.request("PATCH", path, token: me.token, json: ["display_name": "Carla", "bio": "first"]).status == 200)
        // One bad field: neither changes.
        let bad = try await k.request("PATCH", path, token: me.token, json: ["display_name": "", "bio": "second"])
        #expect(bad.status == 422 && bad.json["detail"].string?.contains("display_name") == true)
        let long = try await k.request("PATCH", path, token: me.token, json: ["bio": .string(String(repeating: "x", count: 501))])
        #expect(long.status == 422 && long.json["detail"].string?.contains("bio") == true)
        let now = try await k.request("GET", path, token: me.token).json
        #expect(now["display_name"] == "Carla" && now["bio"] == "first")

        let avatar = "/api/users/\(me.id)/avatar"
        let small = Self.png(100)
        #expect(try await k.request("PUT", avatar, token: me.token, body: small, headers: ["Content-Type": "image/png"]).status == 200)
        let blobsBefore = try await k.values("SELECT COUNT(*) FROM kernel_blobs", []).first
        let oversized = try await k.request("PUT", avatar, token: me.token, body: Self.png(1 << 20), headers: ["Content-Type": "image/png"])
        #expect(oversized.status == 413 && oversized.headers["content-type"] == "application/problem+json", "\(oversized.status)")
        let notImage = try await k.request("PUT", avatar, token: me.token, body: Array("<svg onload=alert(1)>".utf8), headers: ["Content-Type": "image/png"])
        #expect(notImage.status == 415 && notImage.json["code"] == "unsupported_image")
        #expect(try await k.values("SELECT COUNT(*) FROM kernel_blobs", []).first == blobsBefore, "no blob stored for a refused picture")
        #expect(try await k.request("GET", avatar).body == small, "the picture is still the last good one")
        // Cleared: the generated one again.
        #expect(try await k.request("DELETE", avatar, token: me.token).status == 204)
        #expect(try await k.request("GET", avatar).headers["content-type"] == "image/svg+xml")
    }
}
