import Son1kPluginKit

/// One note of the score. Times are in beats from the start of the song.
public struct Note: Sendable, Equatable {
    public var channel: Int
    public var key: Int
    public var velocity: Int
    public var start: Double
    public var length: Double
}

/// A part of the song (intro, verse, chorus, bridge, outro), in whole bars.
public struct Section: Sendable, Equatable {
    public var name: String
    public var startBar: Int
    public var bars: Int
}

/// One instrument's part: the MIDI channel it plays on and its mix settings.
public struct Track: Sendable, Equatable {
    public var role: String
    public var channel: Int
    /// `nil` for the drum kit (channel 10 in MIDI terms, 9 here).
    public var instrument: Instrument?
    /// MIDI CC 7 (0–127).
    public var volume: Int
    /// MIDI CC 10 (0 left, 64 centre, 127 right).
    public var pan: Int
}

/// A complete score: what the composer decided and every note, ready to render.
public struct Arrangement: Sendable {
    public var genre: Genre
    public var mood: Mood
    public var key: Key
    public var bpm: Int
    public var sections: [Section]
    public var tracks: [Track]
    public var notes: [Note]
    /// Chord symbols per section name, e.g. `["verse": ["Am", "F", "C", "G"]]`.
    public var progressions: [String: [String]]
    /// The song's length in beats (the requested duration at this tempo).
    public var totalBeats: Double

    /// Seconds per beat.
    public var beatSeconds: Double { 60 / Double(bpm) }

    /// What the job result records: enough to explain the song without its notes.
    public var summary: JSONValue {
        [
            "genre": .string(genre.rawValue), "mood": .string(mood.rawValue), "key": .string(key.description),
            "bpm": .number(Double(bpm)), "time_signature": "4/4",
            "chords": .array((progressions["chorus"] ?? progressions.values.first ?? []).map { .string($0) }),
            "progressions": .object(progressions.mapValues { .array($0.map { .string($0) }) }),
            "instruments": .array(tracks.map { t in
                ["role": .string(t.role), "program": t.instrument.map { .number(Double($0.program)) } ?? .null,
                 "name": .string(t.instrument?.name ?? "Standard Drum Kit")]
            }),
            "sections": .array(sections.map { s in
                ["name": .string(s.name), "bars": .number(Double(s.bars)), "start_s": .number((Double(s.startBar * 4) * beatSeconds * 100).rounded() / 100)]
            }),
            "notes": .number(Double(notes.count)),
        ]
    }
}
