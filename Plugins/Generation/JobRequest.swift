import Foundation
import Son1kMusicEngine
import Son1kPluginKit

/// The body of `POST /api/generations`, checked field by field: every rule broken is a 422
/// naming the field, before anything is written.
struct JobRequest: Codable, Sendable, SchemaRules {
    var prompt: String
    var genre: String?
    var mood: String?
    var tempoBpm: Int?
    var key: String?
    var durationS: Double?
    var quality: String?
    var lyrics: String?
    /// A lyric-studio draft of the requester's, read through the lyrics plugin (``LyricsLink``).
    var lyricsDraftId: String?
    var instrumental: Bool?
    var seed: Int64?
    /// Sent by the original front ends; when given it must be the caller's own id (or the
    /// caller an admin): a user generates only as themself.
    var userId: String?

    /// Seeds stay within what a JSON number carries exactly in every client (2^53 - 1).
    static let maxSeed: Int64 = 9_007_199_254_740_991

    static let schemaRules: [FieldRule] = [
        .length("prompt", 1...1000),
        .describe("genre", "One of \(Genre.allCases.map(\.rawValue).joined(separator: ", ")), in any case and spacing (\"Hip Hop\"), or a synonym (\"rap\", \"edm\"); empty: the prompt decides. What it was read as is in the job's `mapped`."),
        .describe("mood", "One of \(Mood.allCases.map(\.rawValue).joined(separator: ", ")), in any case, or a synonym (\"chill\", \"upbeat\"); empty: the prompt decides."),
        .range("tempo_bpm", 40...240), .range("duration_s", 5...240), .oneOf("quality", Quality.allCases.map(\.rawValue)),
        .length("lyrics", 0...10_000), .range("seed", 0...Int(maxSeed)),
        .describe("key", "A key such as \"A minor\", \"F#m\" or \"Bb major\"."),
        .describe("duration_s", "Seconds; default 30."),
        .describe("lyrics_draft_id", "One of your lyric-studio drafts (lyrics plugin), used as the lyrics."),
        .describe("instrumental", "Default: true unless lyrics are given."),
        .describe("user_id", "Optional; when given it must be your own id (admins: anyone's). The original front ends send it."),
    ]

    /// The validated request as the engines take it; a missing seed is drawn now, so the
    /// job can be reproduced from its record.
    /// The user the song is for: the caller, unless an admin names another.
    func owner(_ caller: Principal) throws -> String { try caller.acting(as: userId) }

    func validated() throws -> Validated {
        let text = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...1000).contains(text.count) else { throw PluginError.invalid("prompt", "must be 1 to 1000 characters.") }
        let (genre, genreMapping) = try StyleNames.genre(genre)
        let (mood, moodMapping) = try StyleNames.mood(mood)
        if let tempoBpm, !(40...240).contains(tempoBpm) { throw PluginError.invalid("tempo_bpm", "must be between 40 and 240.") }
        if let key, Key(parsing: key) == nil {
            throw PluginError.invalid("key", "must be a key such as \"A minor\", \"F#m\" or \"Bb major\".")
        }
        let duration = durationS ?? 30
        guard duration.isFinite, (5...240).contains(duration) else { throw PluginError.invalid("duration_s", "must be between 5 and 240 seconds.") }
        let quality = try quality.map { raw -> Quality in
            guard let q = Quality(rawValue: raw) else { throw PluginError.invalid("quality", "must be standard, high or ultra.") }
            return q
        } ?? .standard
        if let lyrics, lyrics.count > 10_000 { throw PluginError.invalid("lyrics", "must be at most 10000 characters.") }
        if let seed, !(0...Self.maxSeed).contains(seed) { throw PluginError.invalid("seed", "must be an integer from 0 to \(Self.maxSeed).") }
        let job = EngineJob(prompt: text, genre: genre?.rawValue, mood: mood?.rawValue, tempoBpm: tempoBpm, key: key,
                            durationS: duration, quality: quality, lyrics: lyrics, instrumental: instrumental ?? (lyrics == nil),
                            seed: UInt64(seed ?? Int64.random(in: 0...Self.maxSeed)))
        var mapped: [String: StyleNames.Mapping] = [:]
        mapped["genre"] = genreMapping
        mapped["mood"] = moodMapping
        return Validated(job: job, mapped: mapped)
    }

    /// What the engines take, and the names that were read as others.
    struct Validated {
        var job: EngineJob
        var mapped: [String: StyleNames.Mapping]
    }
}
