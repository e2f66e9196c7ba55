import Foundation
import Son1kAudio
import Son1kPluginKit
import Testing

/// Media a browser plays: every audio URL in a response works without an `Authorization`
/// header (an `<audio src>` sends none), is signed and expires, and a pool item not yet
/// claimed carries a preview through which the full song is not reachable.
@Suite struct MediaURLTests {
    static let publicURL = "https://music.example.com"

    /// A signed URL as a response gives it, fetched from this test's server with no token.
    func fetch(_ k: TestKernel, _ url: String, headers: [String: String] = [:]) async throws -> TestResponse {
        let local = url.hasPrefix(Self.publicURL) ? String(url.dropFirst(Self.publicURL.count)) : url
        return try await k.request("GET", local, headers: headers)
    }

    @Test func aSongAndAPoolPreviewPlayThroughSignedURLsWithoutCredentials() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 1]), .tiers(), .pool(["auto_share_percent": 0])],
                                           environment: ["SON1K_PUBLIC_URL": Self.publicURL + "/"])
        defer { k.stop() }
        let maker = try await k.user("maker", tier: "CREATOR")
        let listener = try await k.user("listener", tier: "FREE")
        let created = try await k.generate(maker.token, ["prompt": "a long bright song", "duration_s": 30, "quality": "high", "genre": "pop"])
        let song = try await k.job(created["id"].string ?? "", maker.token, until: ["completed"])

        // The song: absolute under public_url, whole and in ranges, with its type and ETag.
        let url = song["audio"]["url"].string ?? ""
        #expect(url.hasPrefix(Self.publicURL + "/api/media/"), "\(url)")
        let whole = try await fetch(k, url)
        let original = try await k.request("GET", song["audio"]["download_url"].string ?? "", token: maker.token)
        #expect(whole.status == 200 && original.status == 200)
        #expect(sameBytes(whole.body, original.body).equal)
        #expect(whole.headers["content-type"] == "audio/wav")
        #expect(whole.headers["etag"] == "\"\(Crypto.sha256Hex(whole.body))\"")
        let part = try await fetch(k, url, headers: ["Range": "bytes=100-1099"])
        #expect(part.status == 206 && part.body.count == 1000 && part.body == Array(whole.body[100...1099]))
        #expect(part.headers["content-range"] == "bytes 100-1099/\(whole.body.count)")
        #expect(try await fetch(k, url, headers: ["If-None-Match": whole.headers["etag"] ?? ""]).status == 304)

        // Shared: someone who has not claimed it gets a preview, at most 20 s and lower quality.
        let shared = try await k.request("POST", "/api/community/contribute", token: maker.token, json: ["generation_id": song["id"]])
        #expect(shared.status == 201, "\(shared)")
        let item = try await poll("the item's preview") { () -> JSONValue? in
            let seen = try await k.request("GET", "/api/community/pool/\(shared.json["id"].string ?? "")", token: listener.token).json
            guard seen["preview_url"].string != nil else { return nil }
            return seen
        }
        let previewURL = item["preview_url"].string ?? ""
        #expect(previewURL.hasPrefix(Self.publicURL + "/api/media/"))
        #expect(item["audio_url"].string == previewURL && item["audio_kind"] == "preview")
        let preview = try await fetch(k, previewURL)
        #expect(preview.status == 200 && preview.headers["content-type"] == "audio/wav")
        let wav = try #require(WAV.parse(preview.body))
        #expect(wav.durationSeconds <= 20 && wav.durationSeconds > 19.5, "\(wav.durationSeconds) s")
        #expect(wav.sampleRate == 16_000 && wav.channels == 1)
        let full = try #require(WAV.parse(whole.body))
        #expect(full.durationSeconds > 29 && full.sampleRate == 44_100 && full.channels == 2)
        #expect(preview.body.count < whole.body.count / 4)
        let previewPart = try await fetch(k, previewURL, headers: ["Range": "bytes=0-43"])
        #expect(previewPart.status == 206 && previewPart.body == Array(preview.body[0..<44]))
        // The preview's URL leads to its own blob, not to the song's.
        let songBlob = song["audio"]["blob_id"].string ?? ""
        #expect(!previewURL.contains(songBlob))

        // Tampered: another signature, another blob under this signature, none at all.
        var tampered = URLComponents(string: url)!
        let signature = tampered.queryItems?.first { $0.name == "signature" }?.value ?? ""
        tampered.queryItems = tampered.queryItems?.map { $0.name == "signature" ? URLQueryItem(name: "signature", value: String(signature.reversed())) : $0 }
        let badSignature = try await fetch(k, tampered.string!)
        #expect(badSignature.status == 403 && badSignature.json["code"] == "media_url_invalid", "\(badSignature)")
        let previewBlob = URLComponents(string: previewURL)!.path.components(separatedBy: "/").last ?? ""
        let swapped = try await fetch(k, url.replacingOccurrences(of: songBlob, with: previewBlob))
        #expect(swapped.status == 403 && swapped.json["code"] == "media_url_invalid")
        let unsigned = try await k.request("GET", "/api/media/\(songBlob)")
        #expect(unsigned.status == 403 && unsigned.headers["content-type"] == "application/problem+json")

        // Deleted: the song's URL stops working at once, and the pool's preview with it.
        #expect(try await k.request("DELETE", "/api/generations/\(song["id"].string ?? "")", token: maker.token).status == 204)
        let gone = try await fetch(k, url)
        #expect(gone.status == 404 && gone.json["code"] == "blob_not_found", "\(gone)")
        let previewGone = try await poll("the preview to be deleted with the song") { () -> TestResponse? in
            let r = try await fetch(k, previewURL)
            return r.status == 200 ? nil : r
        }
        #expect(previewGone.status == 404 && previewGone.json["code"] == "blob_not_found")
    }

    @Test func aSignedURLExpiresAfterItsLifetime() async throws {
        // Signed URLs follow the test clock, so expiry is a step of the clock, not a wait.
        let clock = TestKernel.clockFile()
        try setClock(clock, "2026-06-01T12:00:00Z")
        let t0 = Int(Date(iso8601: "2026-06-01T12:00:00Z")!.timeIntervalSince1970)
        let k = try await TestKernel.start([.generation(["builtin_workers": 1])], kernel: ["media": ["url_ttl_s": 30]],
                                           environment: ["SON1K_TEST_CLOCK_FILE": clock.path])
        defer { k.stop() }
        let me = try await k.register("brief")
        let created = try await k.generate(me.token, ["prompt": "a short song", "duration_s": 5])
        let id = created["id"].string ?? ""
        _ = try await k.job(id, me.token, until: ["completed"])
        let song = try await k.request("GET", "/api/generations/\(id)", token: me.token).json
        let url = song["audio"]["url"].string ?? ""
        let expires = Int(URLComponents(string: url)?.queryItems?.first { $0.name == "expires" }?.value ?? "") ?? 0
        // At least the lifetime, rounded up to a step of a tenth of it.
        #expect((t0 + 30...t0 + 33).contains(expires), "expires \(expires), now \(t0)")
        #expect(try await k.request("GET", url).status == 200)
        try setClock(clock, "2026-06-01T12:00:29Z")
        #expect(try await k.request("GET", url).status == 200, "still within its lifetime")

        try setClock(clock, "2026-06-01T12:01:00Z")
        let expired = try await k.request("GET", url)
        #expect(expired.status == 403 && expired.json["code"] == "media_url_expired", "\(expired)")
        // The same song, asked for again, has a fresh URL that works.
        let again = try await k.request("GET", "/api/generations/\(id)", token: me.token).json
        #expect(again["audio"]["url"].string != url)
        #expect(try await k.request("GET", again["audio"]["url"].string ?? "").status == 200)
    }
}
