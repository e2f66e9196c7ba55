import Foundation
import Son1kAudio
import Son1kPluginKit
import Testing

/// The original Son1kVers3 front ends' calls (nov4-ix/son1kvers3-2.3, `Sub-Son1k-2.3/apps/*`
/// and `packages/*`), replayed as those clients send them — paths, bodies, and the fields
/// they read — with the one intended difference: a Bearer token on every call. The mapping
/// table in docs/API.md ("For front-end developers") lists each of them.
@Suite struct OriginalClientTests {
    /// packages/shared-hooks `useGeneration`: limits, generate, record-generation, contribute.
    @Test func useGenerationsSequenceCountsOneSongAndKeepsTheFreeUsersSongOutOfThePool() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 1]), .tiers(), .pool(["auto_share_percent": 100])])
        defer { k.stop() }
        let me = try await k.user("hookuser", tier: "FREE")
        let other = try await k.user("onlooker", tier: "FREE")
        // TierService.getUserLimits: `{...data.limits, tier: data.tier}`.
        let before = try await k.request("GET", "/api/tiers/limits/\(me.id)", token: me.token).json
        #expect(before["limits"]["remaining"] == 3 && before["limits"]["reset_at"].string != nil && before["tier"] == "FREE")

        let generated = try await k.request("POST", "/api/generate", token: me.token, json: [
            "prompt": "a night drive", "quality": "standard", "genre": "Hip Hop", "user_id": .string(me.id),
        ])
        #expect(generated.status == 202, "\(generated)")
        let id = try #require(generated.json["generation_id"].string ?? generated.json["id"].string)
        #expect(generated.json["generation_id"] == generated.json["id"])
        #expect(generated.json["genre"] == "hiphop" && generated.json["mapped"]["genre"] == ["given": "Hip Hop", "used": "hiphop"])

        // recordGeneration: the slot was taken at submission, so the second record is refused
        // (the hook ignores that) and the song counts once.
        let recorded = try await k.request("POST", "/api/tiers/record-generation", token: me.token,
                                           json: ["user_id": .string(me.id), "generation_id": .string(id), "quality": "standard"])
        #expect(recorded.status == 409 && recorded.json["code"] == "duplicate_generation", "\(recorded)")
        // Then "contribute (automatic for paid tiers)": a FREE user's song is not, finished or not.
        let auto: JSONValue = ["user_id": .string(me.id), "generation_id": .string(id), "quality": "standard"]
        let early = try await k.request("POST", "/api/community/contribute", token: me.token, json: auto)
        #expect(early.status == 403 && early.json["code"] == "automatic_share_paid_only", "\(early)")
        let after = try await k.request("GET", "/api/tiers/limits/\(me.id)", token: me.token).json
        #expect(after["limits"]["remaining"] == 2, "one song, one slot: \(after)")

        // Finished, a FREE user's song does not enter the pool by itself, even at 100 %.
        _ = try await k.job(id, me.token, until: ["completed"])
        _ = try await poll("the pool to hear of the song") { try await k.undelivered(to: "pool") == 0 ? true : nil }
        #expect(try await k.request("POST", "/api/community/contribute", token: me.token, json: auto).status == 403)
        #expect(try await k.pool(other.token)["items"].array?.isEmpty == true)
        // Sharing it stays the owner's explicit choice.
        #expect(try await k.request("POST", "/api/community/contribute", token: me.token, json: ["generation_id": .string(id)]).status == 201)
        #expect(try await k.pool(other.token)["items"].array?.count == 1)
        // A user_id that is not the caller's is refused everywhere the hook sends one.
        for (path, body) in [("/api/generate", ["prompt": "x", "user_id": .string(other.id)] as JSONValue),
                             ("/api/tiers/record-generation", ["user_id": .string(other.id), "generation_id": "g-x"])] {
            let r = try await k.request("POST", path, token: me.token, json: body)
            #expect(r.status == 403 && r.json["code"] == "not_owner", "\(path): \(r)")
        }
    }

    /// apps/the-generator GeneratorForm: its genre values (display names, lower-cased by the
    /// form), the empty "Auto-detect", and values that cannot be understood.
    @Test func theGeneratorsGenresAndMoodsAreReadOrRefusedWithWhatIsAccepted() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 0, "max_active_per_user": 20]), .tiers()])
        defer { k.stop() }
        let me = try await k.user("formuser", tier: "STUDIO")
        let expected = ["pop": "pop", "rock": "rock", "electronic": "electronic", "hip hop": "hiphop", "jazz": "jazz",
                        "classical": "classical", "latin": "latin", "country": "country"]
        for (given, used) in expected {
            let r = try await k.request("POST", "/api/generate", token: me.token, json: ["prompt": "a song", "quality": "standard", "genre": .string(given)])
            #expect(r.status == 202 && r.json["genre"].string == used, "\(given): \(r)")
            #expect((r.json["mapped"]["genre"]["used"].string != nil) == (given != used), "\(given) reported as mapped only when it was")
        }
        let auto = try await k.request("POST", "/api/generate", token: me.token, json: ["prompt": "a sad jazz ballad", "genre": "", "mood": ""])
        #expect(auto.status == 202 && auto.json["genre"].isNull && auto.json["mapped"].isNull, "empty lets the prompt decide: \(auto)")
        let synonym = try await k.request("POST", "/api/generations", token: me.token, json: ["prompt": "a song", "mood": "Chill"])
        #expect(synonym.json["mood"] == "calm" && synonym.json["mapped"]["mood"] == ["given": "Chill", "used": "calm"])

        let count = try await k.request("GET", "/api/generations?limit=100", token: me.token).json["items"].array?.count
        for (field, value) in [("genre", "polka"), ("mood", "sleepy")] {
            var body: JSONValue = ["prompt": "a song"]
            body[field] = .string(value)
            let r = try await k.request("POST", "/api/generate", token: me.token, json: body)
            #expect(r.status == 422 && r.headers["content-type"] == "application/problem+json", "\(value): \(r)")
            let detail = r.json["detail"].string ?? ""
            #expect(detail.contains(field) && detail.contains(value) && detail.contains(field == "genre" ? "country" : "calm"), "\(detail)")
        }
        #expect(try await k.request("GET", "/api/generations?limit=100", token: me.token).json["items"].array?.count == count, "nothing stored")
    }

    /// apps/the-generator Generator.tsx: lyrics, then the create/status pair with the
    /// original backend's `{success, data}` envelope, then playing `audioUrl`.
    @Test func theGeneratorCreatesPollsAndPlaysWithTheOriginalEnvelope() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 1]), .tiers(), .lyrics()])
        defer { k.stop() }
        let me = try await k.user("studio", tier: "FREE")
        let lyrics = try await k.request("POST", "/api/lyrics/generate", token: me.token,
                                         json: ["prompt": "a song about the sea", "style": "creative", "length": "medium"])
        #expect(lyrics.status == 200 && (lyrics.json["lyrics"].string ?? lyrics.json["text"].string ?? "").contains("["), "\(lyrics)")
        #expect(lyrics.json["lyrics"] == lyrics.json["text"])

        let created = try await k.request("POST", "/api/generation/create", token: me.token, json: [
            "prompt": "a song about the sea", "creativeIntensity": 0.7, "emotionalDepth": 0.6, "experimentalLevel": 0.4,
            "narrativeStyle": 0.5, "quality": "standard",
        ])
        #expect(created.status == 200 && created.json["success"] == true, "\(created)")
        let id = try #require(created.json["data"]["generationId"].string)
        #expect(created.json["data"]["status"] == "PENDING" && created.json["data"]["generationTaskId"].string != nil)

        let done = try await poll("the song", timeout: .seconds(60)) { () -> JSONValue? in
            let s = try await k.request("GET", "/api/generation/\(id)/status", token: me.token).json["data"]
            // The client stops polling on tracks or audioUrl, or on statusNormalized "failed".
            guard s["audioUrl"].string != nil || s["statusNormalized"] == "failed" else { return nil }
            return s
        }
        #expect(done["status"] == "COMPLETED" && done["statusNormalized"] == "complete" && done["running"] == false, "\(done)")
        let url = try #require(done["audioUrl"].string)
        #expect(done["tracks"][0]["audioUrl"].string == url)
        let audio = try await k.request("GET", url)
        #expect(audio.status == 200 && WAV.parse(audio.body) != nil, "plays with no header")

        let bad = try await k.request("POST", "/api/generation/create", token: me.token, json: ["prompt": "x", "creativeIntensity": 3])
        #expect(bad.status == 422 && bad.json["detail"].string?.contains("creativeIntensity") == true)
        let stranger = try await k.user("stranger", tier: "FREE")
        #expect(try await k.request("GET", "/api/generation/\(id)/status", token: stranger.token).status == 404)
    }

    /// packages/community-pool and apps/web-classic CommunityPool: the listing by a display
    /// genre, playing `audio_url`, claiming, liking, and the ranking's avatars.
    @Test func theCommunityPoolClientListsPlaysClaimsLikesAndRanks() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 1]), .tiers(), .pool(["auto_share_percent": 0])])
        defer { k.stop() }
        let maker = try await k.user("poolmaker", tier: "CREATOR")
        let free = try await k.user("poolfree", tier: "FREE")
        let song = try await k.song(maker.token, genre: "hiphop")
        let shared = try await k.request("POST", "/api/community/contribute", token: maker.token, json: ["generation_id": song["id"]])
        #expect(shared.status == 201)

        // getPoolContent({genre: 'Hip Hop', sortBy: 'recent'}) → data.items.
        let page = try await poll("the preview") { () -> JSONValue? in
            let p = try await k.request("GET", "/api/community/pool?genre=Hip%20Hop&sort_by=recent&limit=20", token: free.token).json
            guard p["items"][0]["audio_url"].string != nil else { return nil }
            return p
        }
        let item = page["items"][0]
        #expect(item["genre"] == "hiphop" && item["contributor"]["username"] == "poolmaker")
        #expect(try await k.request("GET", item["audio_url"].string ?? "").status == 200, "handlePlay(item.audio_url)")
        #expect(try await k.request("GET", "/api/community/pool?genre=JAZZ", token: free.token).json["items"].array?.isEmpty == true)

        // claimFromPool(userId) → claimed.audio_url, claimed.claims_remaining.
        let claimed = try await k.request("POST", "/api/community/pool/claim", token: free.token, json: ["user_id": .string(free.id)])
        #expect(claimed.status == 201 && claimed.json["claims_remaining"] == 2, "\(claimed)")
        let full = try await k.request("GET", claimed.json["audio_url"].string ?? "")
        #expect(full.status == 200 && (WAV.parse(full.body)?.sampleRate ?? 0) > 16_000, "the claimed song, not the preview")
        // likeContribution(item.id, userId), then the ranking's contributors with avatars.
        let liked = try await k.request("POST", "/api/community/pool/like/\(item["id"].string ?? "")", token: free.token, json: ["user_id": .string(free.id)])
        #expect(liked.status == 200 && liked.json["likes"] == 1, "\(liked)")
        let ranking = try await k.request("GET", "/api/community/ranking?timeframe=all_time", token: free.token).json["ranking"]
        let first = ranking[0]
        #expect(first["username"] == "poolmaker" && first["tier"].string != nil && first["contributions"] == 1 && first["points"].int != nil)
        let avatar = try #require(first["avatar"].string)
        let picture = try await k.request("GET", avatar)
        #expect(picture.status == 200 && picture.headers["content-type"]?.hasPrefix("image/") == true, "a generated default: \(picture.status)")
        // Someone else's user_id in the body is refused, not silently replaced.
        let impostor = try await k.request("POST", "/api/community/pool/claim", token: free.token, json: ["user_id": .string(maker.id)])
        #expect(impostor.status == 403 && impostor.json["code"] == "not_owner")
    }

    /// packages/tiers TierService.createCheckout and the pricing pages' upgrade button, with
    /// billing set up the way the shipped plugins.json does it: only STRIPE_API_BASE points
    /// at a local Stripe stand-in, and the plugin's egress host follows from it.
    @Test func checkoutFromThePricingPageWorksWithOnlyStripeAPIBaseSet() async throws {
        let stripe = try await StripeFake.start(key: BillingTests.key)
        defer { stripe.stop() }
        let shipped = try JSONValue.parse(Array(try Data(contentsOf: TestKernel.repositoryRoot.appendingPathComponent("plugins.json"))))
        let billing = try #require(shipped["plugins"].array?.first { $0["name"] == "billing" })
        let k = try await TestKernel.start([.tiers(), .billing(billing["config"])], environment: [
            "STRIPE_SECRET_KEY": BillingTests.key, "STRIPE_API_BASE": stripe.base, "STRIPE_PRICE_PRO": "price_pro",
        ])
        defer { k.stop() }
        let plugin = try await k.plugin("billing")
        #expect(plugin["state"] == "running", "\(plugin)")
        let me = try await k.user("upgrader", tier: "FREE")
        let r = try await k.request("POST", "/api/tiers/checkout", token: me.token, json: ["user_id": .string(me.id), "tier": "PRO"])
        #expect(r.status == 200 && r.json["checkout_url"].string?.hasPrefix("https://checkout.stripe.com/") == true, "\(r)")
        #expect(try await stripe.requests().count == 1)
    }
}
