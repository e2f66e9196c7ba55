import Foundation
import Son1kMusicEngine
import Son1kPluginKit
import Testing

extension PluginSpec {
    static func voice(_ config: JSONValue = [:]) -> PluginSpec {
        PluginSpec(name: "voice", library: "Son1kVoice", config: config)
    }
}

/// Voice profiles and synthesis. Pitches are checked with an estimator of the tests' own
/// (normalised autocorrelation), not the plugin's YIN.
@Suite(.serialized) struct VoiceTests {
    static let consent: JSONValue = ["statement": "This is my own voice and I agree to its use for synthesis.", "speaker_is_me": true]

    // MARK: Audio the tests make and measure

    /// A voiced buzz at `f0` (harmonics, a syllable-rate envelope, a little vibrato).
    static func buzz(f0: Double, seconds: Double, rate: Int = 22050) -> [Float] {
        (0..<Int(seconds * Double(rate))).map { i in
            let t = Double(i) / Double(rate)
            let phase = 2 * Double.pi * f0 * (t + 0.01 * sin(2 * Double.pi * 5 * t) / (2 * Double.pi * 5))
            let harmonics = (1...8).reduce(0.0) { $0 + sin(phase * Double($1)) / Double($1) }
            return Float(0.25 * harmonics * (0.55 + 0.45 * sin(2 * Double.pi * 4 * t)))
        }
    }

    /// A WAV of interleaved 32-bit float samples (format 3).
    static func floatWAV(_ interleaved: [Float], rate: Int, channels: Int) -> [UInt8] {
        var out = Array("RIFF".utf8)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out += $0 } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { out += $0 } }
        u32(36 + interleaved.count * 4)
        out += Array("WAVEfmt ".utf8)
        u32(16); u16(3); u16(channels); u32(rate); u32(rate * channels * 4); u16(channels * 4); u16(32)
        out += Array("data".utf8)
        u32(interleaved.count * 4)
        for s in interleaved { withUnsafeBytes(of: s.bitPattern.littleEndian) { out += $0 } }
        return out
    }

    /// F0 per voiced 10 ms frame by normalised autocorrelation (the first peak within 10% of
    /// the best, so the fundamental wins over its subharmonics).
    static func f0s(_ samples: [Float], rate: Int) -> [Double] {
        let x = stride(from: 0, to: samples.count - 1, by: 2).map { (samples[$0] + samples[$0 + 1]) / 2 }
        let r = Double(rate) / 2
        let window = Int(r * 0.04), hop = Int(r * 0.01)
        let minLag = Int(r / 450), maxLag = Int(r / 65)
        var energies: [Float] = []
        for start in stride(from: 0, to: x.count - window - maxLag, by: hop) {
            energies.append(x[start..<(start + window)].reduce(0) { $0 + $1 * $1 })
        }
        let loudest = energies.max() ?? 0
        var out: [Double] = []
        for (n, energy) in energies.enumerated() where energy > loudest / 20 {
            let start = n * hop
            var scores: [(lag: Int, r: Double)] = []
            for lag in minLag...maxLag {
                var xy: Float = 0, yy: Float = 0
                for j in start..<(start + window) {
                    xy += x[j] * x[j + lag]
                    yy += x[j + lag] * x[j + lag]
                }
                scores.append((lag, Double(xy) / (Double(energy * yy).squareRoot() + 1e-12)))
            }
            // The first local maximum nearly as high as the best one is the period; its
            // neighbours refine it (parabolic interpolation).
            guard let best = scores.max(by: { $0.r < $1.r }), best.r > 0.7,
                  let peak = scores.indices.dropFirst().dropLast().first(where: { i in
                      scores[i].r >= best.r * 0.9 && scores[i].r >= scores[i - 1].r && scores[i].r >= scores[i + 1].r
                  }) else { continue }
            let (a, b, c) = (scores[peak - 1].r, scores[peak].r, scores[peak + 1].r)
            let offset = a - 2 * b + c != 0 ? 0.5 * (a - c) / (a - 2 * b + c) : 0
            out.append(r / (Double(scores[peak].lag) + max(-0.5, min(0.5, offset))))
        }
        return out
    }

    static func median(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.sorted()[v.count / 2] }

    static func samples(of wav: [UInt8]) throws -> (samples: [Float], rate: Int) {
        let parsed = try #require(WAV.parse(wav))
        return (parsed.monoSamples(wav), parsed.sampleRate)
    }

    /// Speech made with the espeak-ng program (not the plugin's library use).
    static func espeakRecording(_ text: String, voice: String, pitch: Int) throws -> [UInt8] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-ref-\(UUID().uuidString).wav").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/espeak-ng")
        p.arguments = ["-v", voice, "-p", String(pitch), "-w", path, text]
        try p.run()
        p.waitUntilExit()
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func profile(_ k: TestKernel, _ token: String, reference: [UInt8]) async throws -> JSONValue {
        let created = try await k.request("POST", "/api/voice/profiles", token: token, json: ["name": "me", "consent": consent])
        guard created.status == 201, let id = created.json["id"].string else { throw TestFailure("profile: \(created)") }
        let uploaded = try await k.request("PUT", "/api/voice/profiles/\(id)/reference", token: token, body: reference, headers: ["Content-Type": "audio/wav"])
        guard uploaded.status == 200 else { throw TestFailure("reference: \(uploaded)") }
        return uploaded.json
    }

    static func finished(_ k: TestKernel, _ token: String, _ job: String) async throws -> JSONValue {
        try await poll("voice job \(job)", timeout: .seconds(60), every: .milliseconds(100)) { () -> JSONValue? in
            let r = try await k.request("GET", "/api/voice/jobs/\(job)", token: token).json
            if r["status"] == "failed" { throw TestFailure("\(job) failed: \(r["error"])") }
            return r["status"] == "completed" ? r : Optional<JSONValue>.none
        }
    }

    // MARK: Tests

    @Test func referencesAreMeasuredAndBadOnesRefused() async throws {
        let k = try await TestKernel.start([.voice(["workers": 0])])
        defer { k.stop() }
        let me = try await k.register("speaker")

        for consent in [nil, ["statement": "It is me, I agree.", "speaker_is_me": false], ["speaker_is_me": true], ["statement": "short", "speaker_is_me": true]] as [JSONValue?] {
            var body: JSONValue = ["name": "x"]
            if let consent { body["consent"] = consent }
            let r = try await k.request("POST", "/api/voice/profiles", token: me.token, json: body)
            #expect(r.status == 422 && r.json["detail"].string?.contains("consent") == true, "\(r)")
        }
        let created = try await k.request("POST", "/api/voice/profiles", token: me.token, json: ["name": "studio", "consent": Self.consent])
        #expect(created.status == 201 && created.json["status"] == "awaiting_reference" && created.json["consent"]["given_at"].string != nil)
        let id = created.json["id"].string ?? ""

        // A voice of known pitch: 140 Hz.
        let known = WAV.encode(interleaved: Self.buzz(f0: 140, seconds: 5), sampleRate: 22050, channels: 1)
        let measured = try await k.request("PUT", "/api/voice/profiles/\(id)/reference", token: me.token, body: known)
        let f0 = measured.json["features"]["median_f0_hz"].double ?? 0
        #expect(measured.status == 200 && measured.json["status"] == "ready" && abs(f0 / 140 - 1) < 0.03, "\(measured)")
        #expect(measured.json["features"]["duration_s"] == 5 && measured.json["features"]["loudness_lufs"].double != nil)

        // Stereo float works the same.
        let buzz = Self.buzz(f0: 210, seconds: 4)
        let stereo = Self.floatWAV(zip(buzz, buzz).flatMap { [$0, $1] }, rate: 22050, channels: 2)
        let fromFloat = try await k.request("PUT", "/api/voice/profiles/\(id)/reference", token: me.token, body: stereo).json["features"]["median_f0_hz"].double ?? 0
        #expect(abs(fromFloat / 210 - 1) < 0.03, "\(fromFloat)")

        // Speech from espeak-ng, its pitch measured independently.
        for (voice, pitch) in [("en+m3", 30), ("en+f3", 70)] {
            let speech = try Self.espeakRecording("The quick brown fox jumps over the lazy dog, and then it runs back home again to rest.", voice: voice, pitch: pitch)
            let (samples, rate) = try Self.samples(of: speech)
            let truth = Self.median(Self.f0s(samples, rate: rate))
            let r = try await k.request("PUT", "/api/voice/profiles/\(id)/reference", token: me.token, body: speech)
            let yin = r.json["features"]["median_f0_hz"].double ?? 0
            #expect(r.status == 200 && truth > 60 && abs(yin / truth - 1) < 0.03, "\(voice): YIN \(yin) Hz, autocorrelation \(truth) Hz")
            #expect((r.json["features"]["speaking_rate"].double ?? 0) > 1, "\(r.json["features"])")
        }

        let short = try await k.request("PUT", "/api/voice/profiles/\(id)/reference", token: me.token,
                                        body: WAV.encode(interleaved: Self.buzz(f0: 140, seconds: 1), sampleRate: 22050, channels: 1))
        #expect(short.status == 422 && short.json["code"] == "reference_length" && short.json["detail"].string?.contains("3 to 60 seconds") == true)
        let notWAV = try await k.request("PUT", "/api/voice/profiles/\(id)/reference", token: me.token, body: Array("ID3 this is an mp3, honest".utf8))
        #expect(notWAV.status == 422 && notWAV.json["code"] == "not_wav")
        let huge = try await k.request("PUT", "/api/voice/profiles/\(id)/reference", token: me.token, body: [UInt8](repeating: 0, count: 20 * 1024 * 1024))
        #expect(huge.status == 413)
        #expect(try await k.request("GET", "/api/voice/profiles/\(id)", token: me.token).json["features"]["median_f0_hz"].double ?? 0 > 60,
                "refused uploads left the last good reference in place")
    }

    @Test func synthesisMatchesThePitchAndCarriesTheEmotion() async throws {
        let k = try await TestKernel.start([.voice()])
        defer { k.stop() }
        let me = try await k.register("singer")
        let profile = try await Self.profile(k, me.token, reference: WAV.encode(interleaved: Self.buzz(f0: 180, seconds: 5), sampleRate: 22050, channels: 1))
        let profileF0 = profile["features"]["median_f0_hz"].double ?? 0
        let text = "Every morning I walk along the river and listen to the water singing softly in the sun."

        func speak(_ emotion: String, intensity: Double = 1, format: String = "wav") async throws -> (job: JSONValue, audio: TestResponse) {
            let r = try await k.request("POST", "/api/voice/synthesize", token: me.token, json: [
                "profile_id": profile["id"], "text": .string(text), "language": "en", "emotion": .string(emotion),
                "intensity": .number(intensity), "format": .string(format),
            ])
            guard r.status == 202, let id = r.json["id"].string else { throw TestFailure("synthesize: \(r)") }
            let job = try await Self.finished(k, me.token, id)
            return (job, try await k.request("GET", job["audio_url"].string ?? "", token: me.token))
        }

        let (neutral, audio) = try await speak("neutral", intensity: 0.5)
        #expect(neutral["engine"] == "embedded" && neutral["fidelity"] == "pitch" && neutral["audio_url"].string?.hasPrefix("/api/media/") == true)
        let (samples, rate) = try Self.samples(of: audio.body)
        let spoken = Self.median(Self.f0s(samples, rate: rate))
        #expect(abs(spoken / profileF0 - 1) < 0.03, "output \(spoken) Hz vs profile \(profileF0) Hz")

        let (happy, happyAudio) = try await speak("happy")
        let (sad, sadAudio) = try await speak("sad")
        let happyF0 = try Self.f0s(Self.samples(of: happyAudio.body).samples, rate: rate)
        let sadF0 = try Self.f0s(Self.samples(of: sadAudio.body).samples, rate: rate)
        let mean = { (v: [Double]) in v.reduce(0, +) / Double(max(1, v.count)) }
        #expect(mean(happyF0) > mean(sadF0) * 1.1, "happy \(mean(happyF0)) Hz, sad \(mean(sadF0)) Hz")
        let happySeconds = happy["output"]["duration_s"].double ?? 0, sadSeconds = sad["output"]["duration_s"].double ?? 0
        #expect(happySeconds > 0 && happySeconds < sadSeconds * 0.85, "happy \(happySeconds) s, sad \(sadSeconds) s for the same words")

        let (flac, flacAudio) = try await speak("calm", format: "flac")
        #expect(flac["audio"]["content_type"] == "audio/flac" && flacAudio.body.starts(with: Array("fLaC".utf8)))

        let notReady = try await k.request("POST", "/api/voice/profiles", token: me.token, json: ["name": "later", "consent": Self.consent]).json["id"]
        let early = try await k.request("POST", "/api/voice/synthesize", token: me.token, json: ["profile_id": notReady, "text": "hi"])
        #expect(early.status == 409 && early.json["code"] == "profile_not_ready")
        let odd = try await k.request("POST", "/api/voice/synthesize", token: me.token, json: ["profile_id": profile["id"], "text": "hi", "emotion": "sarcastic"])
        #expect(odd.status == 422 && odd.json["detail"].string?.contains("emotion") == true)
    }

    @Test func profilesArePrivateAndDeletingRemovesTheRecording() async throws {
        let k = try await TestKernel.start([.lyrics(["engines": ["offline"]]), .voice(["workers": 0])])
        defer { k.stop() }
        let me = try await k.register("owner")
        let other = try await k.register("mimic")
        let profile = try await Self.profile(k, me.token, reference: WAV.encode(interleaved: Self.buzz(f0: 120, seconds: 4), sampleRate: 22050, channels: 1))
        let id = profile["id"].string ?? "", blob = profile["reference"]["blob_id"].string ?? ""
        #expect(try await k.request("GET", "/api/blobs/\(blob)", token: me.token).status == 200)

        #expect(try await k.request("GET", "/api/voice/profiles/\(id)", token: other.token).status == 404)
        #expect(try await k.request("GET", "/api/voice/profiles", token: other.token).json["data"] == [])
        #expect(try await k.request("GET", "/api/blobs/\(blob)", token: other.token).status == 404, "the recording is the owner's")
        #expect(try await k.request("DELETE", "/api/voice/profiles/\(id)", token: other.token).status == 404)
        let borrowed = try await k.request("POST", "/api/voice/synthesize", token: other.token, json: ["profile_id": .string(id), "text": "hello"])
        #expect(borrowed.status == 404 && borrowed.json["code"] == "profile_not_found")
        #expect(try await k.request("PUT", "/api/voice/profiles/\(id)/reference", token: other.token,
                                    body: WAV.encode(interleaved: Self.buzz(f0: 300, seconds: 4), sampleRate: 22050, channels: 1)).status == 404)

        // A lyric-studio draft can be spoken (its section headers are not), by its owner only.
        let draft = try await k.request("POST", "/api/lyrics/drafts", token: me.token,
                                        json: ["title": "Words", "sections": [["type": "verse", "lines": ["first line", "second line"]]]]).json["id"]
        let spoken = try await k.request("POST", "/api/voice/synthesize", token: me.token, json: ["profile_id": .string(id), "draft_id": draft])
        #expect(spoken.status == 202 && spoken.json["text"] == "first line\nsecond line" && spoken.json["status"] == "queued", "\(spoken)")
        let someoneElses = try await k.request("POST", "/api/voice/synthesize", token: me.token, json: ["profile_id": .string(id), "draft_id": "draft_nope"])
        #expect(someoneElses.status == 422 && someoneElses.json["detail"].string?.contains("draft_id") == true)
        #expect(try await k.request("GET", "/api/voice/jobs/\(spoken.json["id"].string ?? "")", token: other.token).status == 404)

        #expect(try await k.request("DELETE", "/api/voice/profiles/\(id)", token: me.token).status == 204)
        #expect(try await k.request("GET", "/api/blobs/\(blob)", token: me.token).status == 404)
        let left = (try await k.integer("SELECT COUNT(*) AS n FROM voice_profiles") ?? -1,
                    try await k.integer("SELECT COUNT(*) AS n FROM kernel_blobs WHERE id = ?", [.text(blob)]) ?? -1)
        #expect(left == (0, 0))
    }

    @Test func fiftyConcurrentRequestsWithALimitOfTenAcceptExactlyTen() async throws {
        // No worker runs, so nothing finishes while the fifty race for the ten places.
        let k = try await TestKernel.start([.voice(["workers": 0, "max_active_per_user": 10])])
        defer { k.stop() }
        let me = try await k.register("crowd")
        let profile = try await Self.profile(k, me.token, reference: WAV.encode(interleaved: Self.buzz(f0: 150, seconds: 4), sampleRate: 22050, channels: 1))
        let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for n in 0..<50 {
                group.addTask {
                    let r = try await k.request("POST", "/api/voice/synthesize", token: me.token,
                                                json: ["profile_id": profile["id"], "text": .string("Line number \(n).")])
                    return (r.status, r.json["code"].string ?? "")
                }
            }
            return try await group.reduce(into: [String: Int]()) { $0["\($1.0) \($1.1)", default: 0] += 1 }
        }
        #expect(statuses == ["202 ": 10, "429 too_many_active": 40], "\(statuses)")
        let (rows, jobs) = (try await k.integer("SELECT COUNT(*) AS n FROM voice_jobs") ?? 0,
                            try await k.integer("SELECT COUNT(*) AS n FROM kernel_jobs WHERE plugin = 'voice' AND state = 'queued'") ?? 0)
        #expect(rows == 10 && jobs == 10, "a refused request leaves nothing behind: \(rows) rows, \(jobs) jobs")
    }

    @Test func aSynthesisPastItsTimeLimitEndsAsTimeout() async throws {
        let k = try await TestKernel.start([.voice(["timeout_s": 1, "max_attempts": 3])], kernel: ["jobs": ["maintenance_interval_ms": 50]])
        defer { k.stop() }
        let me = try await k.register("talker")
        let profile = try await Self.profile(k, me.token, reference: WAV.encode(interleaved: Self.buzz(f0: 150, seconds: 4), sampleRate: 22050, channels: 1))
        // Two thousand characters take the embedded engine well over a second to speak.
        let text = String(repeating: "The quick brown fox jumps over the lazy dog again and again. ", count: 33).prefix(2000)
        let r = try await k.request("POST", "/api/voice/synthesize", token: me.token, json: ["profile_id": profile["id"], "text": .string(String(text))])
        #expect(r.status == 202, "\(r)")
        let id = try #require(r.json["id"].string)
        let ended = try await poll("the synthesis to time out", timeout: .seconds(30)) { () -> JSONValue? in
            let job = try await k.request("GET", "/api/voice/jobs/\(id)", token: me.token).json
            if job["status"] == "completed" || job["status"] == "failed" { throw TestFailure("ended \(job["status"]), not timeout: \(job)") }
            return job["status"] == "timeout" ? job : Optional<JSONValue>.none
        }
        #expect(ended["attempts"] == 1 && ended["error"].string?.contains("longer than 1 s") == true && ended["audio_url"] == .null, "\(ended)")
        // The worker finishes speaking later; its completion is refused and nothing is stored.
        _ = try await poll("the late completion refused", timeout: .seconds(60)) {
            let metrics = try await k.request("GET", "/metrics", token: try await k.adminToken()).text
            return metrics.contains(#"son1k_jobs_stale_reports_total{queue="voice.synthesis"} 1"#) ? true : nil
        }
        let after = try await k.request("GET", "/api/voice/jobs/\(id)", token: me.token).json
        #expect(after["status"] == "timeout" && after["audio_url"] == .null, "\(after)")
        let failed = try await k.eventCounts("voice.failed")
        #expect(failed.values.reduce(0, +) == 1, "one voice.failed for the timeout: \(failed)")
    }

    @Test func theRemoteEngineSendsReferenceAndTextAndRidesOutA429() async throws {
        let busy = "xtts-key-busy-1111", free = "xtts-key-free-2222"
        let xtts = try await PythonServer.start("xtts_fake", arguments: [JSONValue.object(["keys": [.init(busy): ["rate_limit_after": 1, "retry_after": 300], .init(free): [:]]]).jsonString])
        defer { xtts.stop() }
        let k = try await TestKernel.start([
            .stealth(["default_provider": "xtts", "providers": ["xtts": ["base_url": .string(xtts.base)]]]),
            .voice(["default_engine": "remote", "remote_provider": "xtts", "egress_hosts": .array([.string(xtts.base)]), "retry_base_ms": 100]),
        ])
        defer { k.stop() }
        let admin = try await k.adminToken()
        for (label, key) in [("busy", busy), ("free", free)] {
            #expect(try await k.request("POST", "/api/stealth/accounts", token: admin, json: ["provider": "xtts", "label": .string(label), "credential": .string(key)]).status == 201)
        }
        let me = try await k.register("cloner")
        let reference = WAV.encode(interleaved: Self.buzz(f0: 160, seconds: 4), sampleRate: 22050, channels: 1)
        let profile = try await Self.profile(k, me.token, reference: reference)
        var jobs: [String] = []
        for n in 0..<3 {
            let r = try await k.request("POST", "/api/voice/synthesize", token: me.token, json: [
                "profile_id": profile["id"], "text": .string("line number \(n)"), "language": "es", "emotion": "happy", "speed": 1.25,
            ])
            jobs.append(r.json["id"].string ?? "")
        }
        for id in jobs {
            let job = try await Self.finished(k, me.token, id)
            #expect(job["engine"] == "remote" && job["fidelity"] == "neural" && job["attempts"] == 1, "\(job)")
        }
        let received = try await xtts.requests()
        let served = received.filter { $0["status"] == 200 }
        #expect(served.count == 3 && received.filter { $0["status"] == 429 }.count == 1, "\(received.map { $0["status"] })")
        #expect(received.first { $0["status"] == 429 }?["key"] == .string(busy) && served.filter { $0["key"] == .string(free) }.count == 2)
        let sha = Crypto.sha256Hex(reference)
        for request in served {
            #expect(request["path"] == "/tts" && request["content_type"].string?.hasPrefix("multipart/form-data; boundary=") == true)
            #expect(request["fields"]["speaker_wav"]["sha256"] == .string(sha) && request["fields"]["speaker_wav"]["content_type"] == "audio/wav")
            #expect(request["fields"]["language"] == "es" && request["fields"]["emotion"] == "happy" && request["fields"]["speed"] == "1.25")
            #expect(request["fields"]["text"].string?.hasPrefix("line number") == true)
        }
        for secret in [busy, free] { #expect(!k.log.contains(secret)) }
    }
}
