import Foundation

/// The genres the procedural engine writes. Each one picks its own instruments, tempo
/// range, drum groove, bass line and chord rhythm (see ``Palette``).
public enum Genre: String, Sendable, Codable, CaseIterable {
    case pop, rock, electronic, hiphop, jazz, classical, ambient, lofi, latin, folk, metal, blues, country
}

/// The moods it understands: each sets the mode, nudges the tempo and sets the energy.
public enum Mood: String, Sendable, Codable, CaseIterable {
    case happy, sad, energetic, calm, dark, romantic, epic, neutral
}

/// A General MIDI instrument (program 0–127) used by one track.
public struct Instrument: Sendable, Equatable {
    public var program: Int
    public var name: String
}

/// Everything a genre decides about the sound.
struct Palette: Sendable {
    enum Groove: String, Sendable { case backbeat, fourOnFloor, trap, swingRide, dembow, brushes, shuffle, doubleKick, none }
    enum BassStyle: Sendable { case roots, octaves, walking, sustained, pulse }
    enum Comping: Sendable { case sustained, strummed, stabs, arpeggio, offbeat }

    var tempo: ClosedRange<Int>
    var groove: Groove
    var bass: BassStyle
    var comping: Comping
    var chords: Instrument
    var bassInstrument: Instrument
    var lead: Instrument
    var pad: Instrument?
    var sevenths: Bool
    /// 0 = straight eighths, 1 = full triplet swing.
    var swing: Double
    /// Chord progressions as scale degrees (0 = I).
    var progressions: [[Int]]

    static func of(_ genre: Genre) -> Palette {
        let pop: [[Int]] = [[0, 4, 5, 3], [5, 3, 0, 4], [0, 5, 3, 4], [3, 0, 4, 5]]
        switch genre {
        case .pop:
            return Palette(tempo: 96...124, groove: .backbeat, bass: .pulse, comping: .strummed,
                           chords: .init(program: 0, name: "Acoustic Grand Piano"), bassInstrument: .init(program: 33, name: "Electric Bass (finger)"),
                           lead: .init(program: 80, name: "Lead 1 (square)"), pad: .init(program: 89, name: "Pad 2 (warm)"),
                           sevenths: false, swing: 0, progressions: pop)
        case .rock:
            return Palette(tempo: 110...140, groove: .backbeat, bass: .octaves, comping: .strummed,
                           chords: .init(program: 29, name: "Overdriven Guitar"), bassInstrument: .init(program: 34, name: "Electric Bass (pick)"),
                           lead: .init(program: 30, name: "Distortion Guitar"), pad: .init(program: 16, name: "Drawbar Organ"),
                           sevenths: false, swing: 0, progressions: [[0, 6, 3, 0], [0, 3, 4, 3], [5, 3, 0, 4], [0, 4, 3, 3]])
        case .electronic:
            return Palette(tempo: 120...132, groove: .fourOnFloor, bass: .pulse, comping: .offbeat,
                           chords: .init(program: 90, name: "Pad 3 (polysynth)"), bassInstrument: .init(program: 38, name: "Synth Bass 1"),
                           lead: .init(program: 81, name: "Lead 2 (sawtooth)"), pad: .init(program: 88, name: "Pad 1 (new age)"),
                           sevenths: false, swing: 0, progressions: [[5, 3, 0, 4], [0, 5, 3, 4], [5, 4, 3, 4]])
        case .hiphop:
            return Palette(tempo: 80...96, groove: .trap, bass: .sustained, comping: .stabs,
                           chords: .init(program: 4, name: "Electric Piano 1"), bassInstrument: .init(program: 39, name: "Synth Bass 2"),
                           lead: .init(program: 11, name: "Vibraphone"), pad: .init(program: 50, name: "Synth Strings 1"),
                           sevenths: true, swing: 0.25, progressions: [[5, 3, 0, 4], [1, 4, 0, 0], [0, 3, 5, 4]])
        case .jazz:
            return Palette(tempo: 100...150, groove: .swingRide, bass: .walking, comping: .stabs,
                           chords: .init(program: 0, name: "Acoustic Grand Piano"), bassInstrument: .init(program: 32, name: "Acoustic Bass"),
                           lead: .init(program: 65, name: "Alto Sax"), pad: nil,
                           sevenths: true, swing: 0.6, progressions: [[1, 4, 0, 0], [0, 5, 1, 4], [2, 5, 1, 4]])
        case .classical:
            return Palette(tempo: 72...108, groove: .none, bass: .sustained, comping: .arpeggio,
                           chords: .init(program: 0, name: "Acoustic Grand Piano"), bassInstrument: .init(program: 42, name: "Cello"),
                           lead: .init(program: 40, name: "Violin"), pad: .init(program: 48, name: "String Ensemble 1"),
                           sevenths: false, swing: 0, progressions: [[0, 3, 4, 0], [0, 5, 1, 4], [0, 3, 1, 4]])
        case .ambient:
            return Palette(tempo: 60...80, groove: .none, bass: .sustained, comping: .sustained,
                           chords: .init(program: 94, name: "Pad 7 (halo)"), bassInstrument: .init(program: 89, name: "Pad 2 (warm)"),
                           lead: .init(program: 98, name: "FX 3 (crystal)"), pad: .init(program: 88, name: "Pad 1 (new age)"),
                           sevenths: true, swing: 0, progressions: [[0, 3, 0, 3], [0, 5, 3, 0], [3, 0, 5, 4]])
        case .lofi:
            return Palette(tempo: 70...88, groove: .brushes, bass: .roots, comping: .sustained,
                           chords: .init(program: 4, name: "Electric Piano 1"), bassInstrument: .init(program: 33, name: "Electric Bass (finger)"),
                           lead: .init(program: 11, name: "Vibraphone"), pad: nil,
                           sevenths: true, swing: 0.35, progressions: [[1, 4, 0, 5], [3, 2, 1, 0], [0, 5, 1, 4]])
        case .latin:
            return Palette(tempo: 88...100, groove: .dembow, bass: .pulse, comping: .offbeat,
                           chords: .init(program: 24, name: "Acoustic Guitar (nylon)"), bassInstrument: .init(program: 38, name: "Synth Bass 1"),
                           lead: .init(program: 56, name: "Trumpet"), pad: .init(program: 61, name: "Brass Section"),
                           sevenths: false, swing: 0, progressions: [[5, 3, 0, 4], [0, 4, 5, 3]])
        case .folk:
            return Palette(tempo: 84...112, groove: .brushes, bass: .roots, comping: .strummed,
                           chords: .init(program: 25, name: "Acoustic Guitar (steel)"), bassInstrument: .init(program: 32, name: "Acoustic Bass"),
                           lead: .init(program: 73, name: "Flute"), pad: .init(program: 21, name: "Accordion"),
                           sevenths: false, swing: 0.15, progressions: [[0, 3, 0, 4], [0, 4, 5, 3], [0, 3, 4, 4]])
        case .metal:
            return Palette(tempo: 140...180, groove: .doubleKick, bass: .pulse, comping: .strummed,
                           chords: .init(program: 30, name: "Distortion Guitar"), bassInstrument: .init(program: 34, name: "Electric Bass (pick)"),
                           lead: .init(program: 30, name: "Distortion Guitar"), pad: nil,
                           sevenths: false, swing: 0, progressions: [[0, 5, 6, 0], [0, 1, 0, 6], [0, 3, 5, 4]])
        case .country:
            // The train beat under strummed steel strings, a root-fifth bass and a fiddle.
            return Palette(tempo: 96...124, groove: .backbeat, bass: .roots, comping: .strummed,
                           chords: .init(program: 25, name: "Acoustic Guitar (steel)"), bassInstrument: .init(program: 32, name: "Acoustic Bass"),
                           lead: .init(program: 110, name: "Fiddle"), pad: .init(program: 22, name: "Harmonica"),
                           sevenths: false, swing: 0.1, progressions: [[0, 3, 4, 0], [0, 0, 3, 4], [0, 4, 5, 3], [3, 0, 4, 0]])
        case .blues:
            return Palette(tempo: 70...100, groove: .shuffle, bass: .walking, comping: .stabs,
                           chords: .init(program: 16, name: "Drawbar Organ"), bassInstrument: .init(program: 33, name: "Electric Bass (finger)"),
                           lead: .init(program: 26, name: "Electric Guitar (jazz)"), pad: nil,
                           sevenths: true, swing: 0.6, progressions: [[0, 3, 0, 0], [3, 3, 0, 0], [4, 3, 0, 4]])
        }
    }
}

extension Mood {
    /// The mode a mood asks for when the key does not say.
    var mode: Mode {
        switch self {
        case .happy, .romantic, .neutral: .major
        case .sad, .epic: .minor
        case .dark: .phrygian
        case .calm: .lydian
        case .energetic: .mixolydian
        }
    }
    /// Multiplies the genre's tempo.
    var tempoFactor: Double {
        switch self {
        case .energetic: 1.12
        case .happy: 1.05
        case .calm: 0.85
        case .sad: 0.88
        case .romantic: 0.92
        case .dark, .epic, .neutral: 1.0
        }
    }
    /// Base MIDI velocity: how hard everything is played.
    var energy: Int {
        switch self {
        case .energetic, .epic: 112
        case .happy: 100
        case .dark, .neutral: 92
        case .romantic: 80
        case .sad: 74
        case .calm: 66
        }
    }
}

/// Reads a free-text prompt (English or Spanish) for a genre, a mood, a tempo and a key.
public enum PromptReader {
    static let genreWords: [(Genre, [String])] = [
        (.metal, ["metal", "thrash", "heavy"]),
        (.rock, ["rock", "punk", "grunge", "guitar"]),
        (.electronic, ["electronic", "electrónica", "electronica", "edm", "techno", "house", "trance", "synth", "dance", "club"]),
        (.hiphop, ["hip hop", "hip-hop", "hiphop", "rap", "trap", "boom bap"]),
        (.jazz, ["jazz", "swing", "bebop", "sax"]),
        (.classical, ["classical", "clásica", "clasica", "orchestra", "orquesta", "symphony", "sinfon", "piano sonata", "baroque"]),
        (.ambient, ["ambient", "drone", "meditation", "meditación", "space", "espacio", "atmospher"]),
        (.lofi, ["lofi", "lo-fi", "lo fi", "study", "estudiar", "chillhop"]),
        (.latin, ["reggaeton", "reggaetón", "latin", "latino", "salsa", "cumbia", "bachata", "dembow"]),
        (.country, ["country", "bluegrass", "honky", "nashville", "cowboy", "vaquer"]),
        (.folk, ["folk", "acoustic", "acústic", "acustic", "campfire", "fogata"]),
        (.blues, ["blues"]),
        (.pop, ["pop", "ballad", "balada", "piano"]),
    ]
    static let moodWords: [(Mood, [String])] = [
        (.sad, ["sad", "triste", "melanchol", "melancól", "heartbreak", "lonely", "soledad", "llorar", "cry", "rain", "lluvia"]),
        (.dark, ["dark", "oscur", "sinister", "horror", "night", "noche", "villain"]),
        (.epic, ["epic", "épic", "epico", "heroic", "heroic", "battle", "batalla", "trailer", "cinematic"]),
        (.energetic, ["energetic", "energía", "energia", "energy", "party", "fiesta", "workout", "fast", "rápid", "rapid", "intense"]),
        (.calm, ["calm", "tranquil", "relax", "peace", "paz", "chill", "sleep", "dormir", "soft", "suave", "gentle"]),
        (.romantic, ["love", "amor", "romantic", "romántic", "romantic", "kiss", "beso", "corazón", "heart"]),
        (.happy, ["happy", "feliz", "alegr", "joy", "sunny", "sol", "summer", "verano", "bright", "upbeat"]),
    ]

    /// The first genre whose word occurs in the prompt.
    public static func genre(in prompt: String) -> Genre? {
        let text = prompt.lowercased()
        return genreWords.first { $0.1.contains { text.contains($0) } }?.0
    }

    public static func mood(in prompt: String) -> Mood? {
        let text = prompt.lowercased()
        return moodWords.first { $0.1.contains { text.contains($0) } }?.0
    }

    /// "128 bpm" → 128.
    public static func tempo(in prompt: String) -> Int? {
        let words = prompt.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        for (i, w) in words.enumerated() where w == "bpm" && i > 0 {
            if let n = Int(words[i - 1]), (40...240).contains(n) { return n }
        }
        for w in words where w.hasSuffix("bpm") {
            if let n = Int(w.dropLast(3)), (40...240).contains(n) { return n }
        }
        return nil
    }
}
