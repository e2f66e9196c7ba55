import Foundation
import Son1kContracts
import Son1kPluginKit

extension VoicePlugin {
    func registerRoutes(_ r: inout Registry<Config>) {
        r.post("/api/voice/profiles", auth: .user, summary: "Create a voice profile (step 1: consent)",
               description: """
                   Body `{name, consent: {statement, speaker_is_me: true}}` → 201 `{id, status: "awaiting_reference", …}`. \
                   Without `speaker_is_me: true` and a statement (10–2000 characters): 422. Then upload the recording \
                   with `PUT /api/voice/profiles/{id}/reference`.
                   """, body: Profiles.NewProfile.self, returns: ProfileView.self, status: 201) { req, input, ctx in
            let profiles = Profiles(ctx: ctx)
            return try profiles.view(profiles.create(for: try req.requirePrincipal().id, input))
        }

        r.put("/api/voice/profiles/{id}/reference", auth: .user, summary: "Upload the reference recording (step 2)",
              description: """
                  The body is the recording itself (`audio/wav`: 3–60 s, at most 10 MB, 16-bit PCM or float, mono or stereo). \
                  200 with the profile and its measured `features: {duration_s, median_f0_hz, mean_f0_hz, f0_range_hz, \
                  loudness_lufs, speaking_rate}` (F0 by YIN). 422 names what is wrong with the audio; 413 beyond 10 MB. \
                  A new upload replaces the previous recording.
                  """, response: JSONSchema.of(ProfileView.self, for: .response), maxBodyBytes: Profiles.maxBytes) { req, ctx in
            let profiles = Profiles(ctx: ctx)
            return try .json(try profiles.view(profiles.setReference(req.param("id"), for: try req.requirePrincipal().id, audio: req.body)))
        }

        r.get("/api/voice/profiles", auth: .user, summary: "My voice profiles, newest first", returns: ProfileList.self) { req, ctx in
            let profiles = Profiles(ctx: ctx)
            return ProfileList(data: try profiles.views(profiles.list(for: try req.requirePrincipal().id)))
        }

        r.get("/api/voice/profiles/{id}", auth: .user, summary: "One of my voice profiles", returns: ProfileView.self) { req, ctx in
            let profiles = Profiles(ctx: ctx)
            return try profiles.view(profiles.require(req.param("id"), for: try req.requirePrincipal().id))
        }

        r.delete("/api/voice/profiles/{id}", auth: .user, summary: "Delete a voice profile and its reference recording",
                 returns: NoContent.self) { req, ctx in
            try Profiles(ctx: ctx).delete(req.param("id"), for: try req.requirePrincipal().id)
            return NoContent()
        }

        r.post("/api/voice/synthesize", auth: .user, summary: "Speak text in one of my voices",
               description: """
                   Body `{profile_id, text | draft_id, language (default en), emotion: neutral|happy|sad|angry|calm|excited, \
                   intensity 0–1 (0.5), speed 0.5–2 (1), format: wav|flac, engine?: embedded|remote}` → 202 with the job. \
                   Follow it at `GET /api/voice/jobs/{id}` (queued → processing → completed | failed | timeout) or as `voice.*` \
                   events on /api/events/ws. 409 `profile_not_ready` before the reference recording; 429 `too_many_active` with \
                   `max_active_per_user` jobs waiting or running.
                   """, body: SynthesisJob.Request.self, returns: VoiceJobView.self, status: 202) { req, input, ctx -> Reply<VoiceJobView> in
            let user = try req.requirePrincipal().id
            let job = try Self.validate(input, user: user, ctx: ctx)
            let jobs = VoiceJobs(ctx: ctx)
            let row = try jobs.create(job, for: user)
            return Reply(try jobs.views([row])[0], headers: [("Location", "/api/voice/jobs/\(row.id)")])
        }

        r.get("/api/voice/jobs/{id}", auth: .user, summary: "A synthesis job: status, progress, audio_url, engine, fidelity",
              returns: VoiceJobView.self) { req, ctx in
            let jobs = VoiceJobs(ctx: ctx)
            return try jobs.views([jobs.visible(req.param("id"), to: try req.requirePrincipal().id)])[0]
        }

        r.get("/api/voice/jobs", auth: .user, summary: "My synthesis jobs, newest first (the last 50)", returns: VoiceJobList.self) { req, ctx in
            let rows = try ctx.db.query(VoiceJobRow.self, "SELECT \(VoiceJobRow.columns) FROM voice_jobs WHERE user_id = ? ORDER BY created_ms DESC LIMIT 50",
                                        [.text(try req.requirePrincipal().id)])
            return VoiceJobList(data: try VoiceJobs(ctx: ctx).views(rows))
        }
    }

    /// The request as a job, or a 4xx naming what is wrong.
    static func validate(_ body: SynthesisJob.Request, user: String, ctx: Context<Config>) throws -> SynthesisJob {
        let profile = try Profiles(ctx: ctx).require(body.profileId, for: user)
        guard profile.isReady else {
            throw PluginError.conflict("The profile has no reference recording yet: PUT /api/voice/profiles/\(profile.id)/reference first.",
                                       code: "profile_not_ready")
        }
        var text: String
        switch (body.text, body.draftId) {
        case (let t?, nil): text = t
        case (nil, let draft?):
            do {
                let raw = try ctx.call(.lyricsDraft, DraftRequest(draftId: draft, userId: user)).text
                // Section headers ("[Chorus]") are for singers, not to be spoken.
                text = raw.split(separator: "\n").filter { !$0.hasPrefix("[") }.joined(separator: "\n")
            } catch let error as PluginError where error.code == "draft_not_found" || error.code == "service_unavailable" {
                throw PluginError.invalid("draft_id", error.code == "draft_not_found" ? "you have no draft \(draft)." : "needs the lyrics plugin.")
            }
        default: throw PluginError.invalid("text", "send either text or draft_id.")
        }
        text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...2000).contains(text.count) else { throw PluginError.invalid("text", "must be 1 to 2000 characters.") }
        let language = (body.language ?? "en").lowercased()
        guard language.count == 2, language.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw PluginError.invalid("language", "must be an ISO 639-1 code such as en or es.")
        }
        let emotion = body.emotion ?? Emotion.neutral.rawValue
        guard Emotion(rawValue: emotion) != nil else {
            throw PluginError.invalid("emotion", "must be one of \(Emotion.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let intensity = body.intensity ?? 0.5
        guard (0...1).contains(intensity) else { throw PluginError.invalid("intensity", "must be between 0 and 1.") }
        let speed = body.speed ?? 1
        guard (0.5...2).contains(speed) else { throw PluginError.invalid("speed", "must be between 0.5 and 2.") }
        let format = body.format ?? AudioFormat.wav.rawValue
        guard AudioFormat(rawValue: format) != nil else { throw PluginError.invalid("format", "must be wav or flac.") }
        let engine = body.engine ?? ctx.config.defaultEngine
        guard ctx.config.engines.contains(engine) else {
            throw PluginError.invalid("engine", "must be one of \(ctx.config.engines.joined(separator: ", ")) in this deployment.")
        }
        if engine == EmbeddedEngine.engineName { try Espeak.checkVoice(language) }
        return SynthesisJob(profileId: profile.id, text: text, language: language, emotion: emotion, intensity: intensity, speed: speed,
                            format: format, engine: engine)
    }
}
