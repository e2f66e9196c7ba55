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

    /// Seeds stay within what a JSON number carries exactly in every client (2^53 - 1).
    static let maxSeed: Int64 = 9_007_199_254_740_991

    static let schemaRules: [FieldRule] = [
        .length("prompt", 1...1000), .oneOf("genre", Genre.allCases.map(\.rawValue)), .oneOf("mood", Mood.allCases.map(\.rawValue)),
        .range("tempo_bpm", 40...240), .range("duration_s", 5...240), .oneOf("quality", Quality.allCases.map(\.rawValue)),
        .length("lyrics", 0...10_000), .range("seed", 0...Int(maxSeed)),
        .describe("key", "A key such as \"A minor\", \"F#m\" or \"Bb major\"."),
        .describe("duration_s", "Seconds; default 30."),
        .describe("lyrics_draft_id", "One of your lyric-studio drafts (lyrics plugin), used as the lyrics."),
        .describe("instrumental", "Default: true unless lyrics are given."),
    ]

    /// The validated request as the engines take it; a missing seed is drawn now, so the
    /// job can be reproduced from its record.
    func validated() throws -> EngineJob {
        let text = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...1000).contains(text.count) else { throw PluginError.invalid("prompt", "must be 1 to 1000 characters.") }
        if let genre, Genre(rawValue: genre.lowercased()) == nil {
            throw PluginError.invalid("genre", "must be one of \(Genre.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if let mood, Mood(rawValue: mood.lowercased()) == nil {
            throw PluginError.invalid("mood", "must be one of \(Mood.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
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
        return EngineJob(prompt: text, genre: genre?.lowercased(), mood: mood?.lowercased(), tempoBpm: tempoBpm, key: key,
                         durationS: duration, quality: quality, lyrics: lyrics, instrumental: instrumental ?? (lyrics == nil),
                         seed: UInt64(seed ?? Int64.random(in: 0...Self.maxSeed)))
    }
}
