import Foundation
import Son1kAudio
import Son1kPluginKit

/// A voice as stored: who it belongs to, the consent its owner gave, and — once a reference
/// recording is uploaded — the recording's blob and its measured features.
struct Profile: Decodable, Sendable {
    static let columns = "id, user_id, name, status, consent_statement, consent_at, reference_blob_id, features, created_at, updated_at"

    var id: String
    var userId: String
    var name: String
    var status: String
    var consentStatement: String
    var consentAt: Date
    var referenceBlobId: String?
    var features: String?
    var createdAt: Date
    var updatedAt: Date

    /// The measured features, once a reference is stored.
    var measured: FeaturesView? { features.flatMap { try? JSONValueDecoder.decode(FeaturesView.self, from: JSONValue.parse(Array($0.utf8))) } }
    var medianF0: Double? { measured?.medianF0Hz }
    var isReady: Bool { status == "ready" }

    /// The profile, with `media` the signed URL of its reference recording.
    func view(media: [String: String]) -> ProfileView {
        ProfileView(id: id, name: name, status: ProfileView.Status(rawValue: status) ?? .awaitingReference,
                    consent: .init(statement: consentStatement, speakerIsMe: true, givenAt: consentAt),
                    features: measured, reference: referenceBlobId.map { .init(blobId: $0, url: media[$0] ?? "/api/blobs/\($0)") },
                    createdAt: createdAt, updatedAt: updatedAt)
    }
}

/// Profiles are private: every read and change is filtered by the owner's id, and anyone
/// else — an admin too — gets the 404 of a profile that does not exist.
struct Profiles {
    let ctx: Context<VoicePlugin.Config>

    /// Profiles as their owner sees them, with signed reference URLs from one kernel call.
    func views(_ profiles: [Profile]) throws -> [ProfileView] {
        let media = try ctx.blobs.urls(profiles.compactMap(\.referenceBlobId))
        return profiles.map { $0.view(media: media) }
    }

    func view(_ profile: Profile) throws -> ProfileView { try views([profile])[0] }

    /// What a reference recording must be.
    static let minSeconds = 3.0, maxSeconds = 60.0, maxBytes = 10 * 1024 * 1024

    /// The body of `POST /api/voice/profiles`. Consent is checked by hand, so a missing
    /// statement or a false `speaker_is_me` gets its own sentence.
    struct NewProfile: Codable, Sendable, SchemaRules {
        struct Consent: Codable, Sendable, SchemaRules {
            var statement: String?
            /// Must be true: only the speaker may create a profile of their own voice.
            var speakerIsMe: Bool?
            static let schemaRules: [FieldRule] = [.length("statement", 10...2000)]
        }
        var name: String
        var consent: Consent?
        static let schemaRules: [FieldRule] = [.length("name", 1...100)]
    }

    func create(for user: String, _ input: NewProfile) throws -> Profile {
        let name = input.name.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(name.count) else { throw PluginError.invalid("name", "must be 1 to 100 characters.") }
        guard let consent = input.consent, consent.speakerIsMe == true else {
            throw PluginError.invalid("consent.speaker_is_me", "must be true: only the speaker may create a profile of their own voice.")
        }
        let statement = (consent.statement ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard (10...2000).contains(statement.count) else {
            throw PluginError.invalid("consent.statement", "must say, in 10 to 2000 characters, that the voice is yours and you agree to its use.")
        }
        let id = "voice_" + Crypto.randomToken(12)
        let now = ctx.now
        try ctx.db.exec("""
            INSERT INTO voice_profiles (id, user_id, name, status, consent_statement, consent_at, created_ms, created_at, updated_at)
            VALUES (?, ?, ?, 'awaiting_reference', ?, ?, ?, ?, ?)
            """, [.text(id), .text(user), .text(name), .text(statement), .text(now.iso8601), .int(now.epochMs), .text(now.iso8601), .text(now.iso8601)])
        return try require(id, for: user)
    }

    /// Stores a reference recording (replacing any earlier one) with its measured features.
    func setReference(_ id: String, for user: String, audio: [UInt8]) throws -> Profile {
        let profile = try require(id, for: user)
        let (wav, samples) = try Self.decode(audio)
        guard let features = VoiceFeatures.measure(samples, rate: wav.sampleRate) else {
            throw PluginError(status: 422, code: "no_voice_detected", detail: "No voiced speech was found in the recording; record yourself speaking for at least 3 seconds.")
        }
        let blob = try ctx.blobs.put(audio, contentType: "audio/wav", ownerID: user, isPublic: false)
        do {
            try ctx.db.exec("UPDATE voice_profiles SET status = 'ready', reference_blob_id = ?, features = ?, updated_at = ? WHERE id = ? AND user_id = ?",
                            [.text(blob.id), .text(try JSONValueEncoder.encode(features.view).jsonString), .text(ctx.now.iso8601), .text(id), .text(user)])
        } catch {
            try? ctx.blobs.delete(blob.id)
            throw error
        }
        if let old = profile.referenceBlobId, old != blob.id { try? ctx.blobs.delete(old) }
        return try require(id, for: user)
    }

    func require(_ id: String, for user: String) throws -> Profile {
        guard let profile = try find(id, for: user) else {
            throw PluginError.notFound("You have no voice profile \(id).", code: "profile_not_found")
        }
        return profile
    }

    func find(_ id: String, for user: String) throws -> Profile? {
        try ctx.db.queryOne(Profile.self, "SELECT \(Profile.columns) FROM voice_profiles WHERE id = ? AND user_id = ?", [.text(id), .text(user)])
    }

    func list(for user: String) throws -> [Profile] {
        try ctx.db.query(Profile.self, "SELECT \(Profile.columns) FROM voice_profiles WHERE user_id = ? ORDER BY created_ms DESC LIMIT 200", [.text(user)])
    }

    /// Deletes the profile and its reference recording.
    func delete(_ id: String, for user: String) throws {
        let profile = try require(id, for: user)
        try ctx.db.exec("DELETE FROM voice_profiles WHERE id = ? AND user_id = ?", [.text(id), .text(user)])
        if let blob = profile.referenceBlobId { try ctx.blobs.delete(blob) }
    }

    /// The recording as mono samples, or a 422 that says what is wrong with it.
    static func decode(_ audio: [UInt8]) throws -> (WAV, [Float]) {
        guard let wav = WAV.parse(audio) else {
            throw PluginError(status: 422, code: "not_wav", detail: "The body is not a WAV file (RIFF/WAVE with PCM or float samples); send the recording as audio/wav.")
        }
        guard wav.bitsPerSample == 16 || wav.isFloat else {
            throw PluginError(status: 422, code: "unsupported_wav", detail: "The WAV holds \(wav.bitsPerSample)-bit integer samples; send 16-bit PCM or 32-bit float.")
        }
        guard (1...2).contains(wav.channels) else {
            throw PluginError(status: 422, code: "unsupported_wav", detail: "The WAV has \(wav.channels) channels; send mono or stereo.")
        }
        guard (8_000...96_000).contains(wav.sampleRate) else {
            throw PluginError(status: 422, code: "unsupported_wav", detail: "The WAV's sample rate is \(wav.sampleRate) Hz; send 8 to 96 kHz.")
        }
        guard (minSeconds...maxSeconds).contains(wav.durationSeconds) else {
            throw PluginError(status: 422, code: "reference_length",
                              detail: String(format: "The recording lasts %.1f s; a reference must last 3 to 60 seconds.", wav.durationSeconds))
        }
        return (wav, wav.monoSamples(audio))
    }
}
