import Foundation

/// What the composer is asked for. Everything optional is inferred from the prompt, then
/// drawn from the seed.
public struct CompositionRequest: Sendable {
    public var prompt: String
    public var genre: Genre?
    public var mood: Mood?
    public var tempoBPM: Int?
    public var key: Key?
    public var durationSeconds: Double
    public var instrumental: Bool
    public var lyrics: String?
    public var seed: UInt64

    public init(prompt: String, genre: Genre? = nil, mood: Mood? = nil, tempoBPM: Int? = nil, key: Key? = nil,
                durationSeconds: Double, instrumental: Bool = true, lyrics: String? = nil, seed: UInt64) {
        self.prompt = prompt
        self.genre = genre
        self.mood = mood
        self.tempoBPM = tempoBPM
        self.key = key
        self.durationSeconds = durationSeconds
        self.instrumental = instrumental
        self.lyrics = lyrics
        self.seed = seed
    }
}

/// The seeded composer: prompt + genre/mood/tempo/key → a multi-track arrangement with a
/// chord progression per section, a bass line, a drum groove, a melody and an
/// intro/verse/chorus/outro form filling the requested duration.
///
/// Every random choice comes from ``SeededRandom`` forked per part, so the same request and
/// seed always give the same notes.
public enum Composer {
    static let chordsChannel = 0, bassChannel = 1, leadChannel = 2, padChannel = 3, drumChannel = 9

    public static func compose(_ request: CompositionRequest) -> Arrangement {
        let prompt = request.prompt.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        var rng = SeededRandom(seed: request.seed ^ stableHash(prompt))
        let genre = request.genre ?? PromptReader.genre(in: prompt) ?? rng.pick([.pop, .electronic, .rock, .lofi, .folk])
        let mood = request.mood ?? PromptReader.mood(in: prompt) ?? .neutral
        let palette = Palette.of(genre)
        let bpm = request.tempoBPM ?? PromptReader.tempo(in: prompt)
            ?? min(200, max(50, Int((Double(rng.int(palette.tempo)) * mood.tempoFactor).rounded())))
        var key = request.key ?? Key(tonic: rng.pick([0, 2, 4, 5, 7, 9, 10, 3]), mode: mood.mode)
        if request.key == nil, genre == .blues, key.mode == .major { key.mode = .mixolydian }
        if request.key == nil, genre == .metal, key.mode != .phrygian { key.mode = .minor }

        let totalBeats = request.durationSeconds * Double(bpm) / 60
        let bars = max(1, Int((totalBeats / 4).rounded(.up)))
        let sections = plan(bars: bars)

        var progressionRNG = rng.fork("progressions")
        var progressions: [String: [Int]] = [:]
        for name in ["verse", "chorus", "bridge"] {
            progressions[name] = progressionRNG.pick(palette.progressions)
        }
        if progressions["bridge"] == progressions["chorus"] { progressions["bridge"] = progressions["chorus"]!.reversed() }
        progressions["intro"] = progressions["verse"]
        progressions["outro"] = progressions["chorus"]

        var tracks: [Track] = [
            Track(role: "chords", channel: chordsChannel, instrument: palette.chords, volume: 84, pan: 48),
            Track(role: "bass", channel: bassChannel, instrument: palette.bassInstrument, volume: 104, pan: 64),
        ]
        let vocalLine = !request.instrumental && !(request.lyrics ?? "").isEmpty
        let lead = vocalLine ? Instrument(program: 53, name: "Voice Oohs") : palette.lead
        tracks.append(Track(role: vocalLine ? "vocal line" : "melody", channel: leadChannel, instrument: lead, volume: 98, pan: 76))
        if let pad = palette.pad { tracks.append(Track(role: "pad", channel: padChannel, instrument: pad, volume: 60, pan: 64)) }
        if palette.groove != .none { tracks.append(Track(role: "drums", channel: drumChannel, instrument: nil, volume: 108, pan: 64)) }

        var writer = PartWriter(key: key, palette: palette, mood: mood, rng: rng)
        writer.syllables = vocalLine ? Lyrics.syllablesPerLine(request.lyrics ?? "") : []
        for section in sections {
            writer.write(section, progression: progressions[section.name] ?? progressions["verse"]!, isLast: section == sections.last)
        }
        let notes = writer.notes
            .filter { $0.start < totalBeats }
            .sorted { ($0.start, $0.channel, $0.key) < ($1.start, $1.channel, $1.key) }

        let names = progressions.mapValues { $0.map { key.chordName(degree: $0, seventh: palette.sevenths) } }
        return Arrangement(genre: genre, mood: mood, key: key, bpm: bpm, sections: sections, tracks: tracks,
                           notes: notes, progressions: names, totalBeats: totalBeats)
    }

    /// The song's form: intro, then verses and choruses of 8 bars (a 4-bar bridge after the
    /// second chorus), then an outro; the last part is shortened to fit.
    static func plan(bars: Int) -> [Section] {
        if bars <= 4 { return [Section(name: "chorus", startBar: 0, bars: bars)] }
        let intro = bars >= 16 ? 4 : (bars >= 8 ? 2 : 1)
        let outro = bars >= 24 ? 4 : (bars >= 8 ? 2 : 1)
        var sections = [Section(name: "intro", startBar: 0, bars: intro)]
        var cursor = intro
        let middleEnd = bars - outro
        // A short song is one verse and one chorus sharing the middle.
        if middleEnd - cursor <= 16 {
            let verse = (middleEnd - cursor) / 2
            if verse > 0 { sections.append(Section(name: "verse", startBar: cursor, bars: verse)) }
            sections.append(Section(name: "chorus", startBar: cursor + verse, bars: middleEnd - cursor - verse))
            sections.append(Section(name: "outro", startBar: middleEnd, bars: outro))
            return sections
        }
        let form = ["verse", "chorus", "verse", "chorus", "bridge", "chorus"]
        var i = 0
        while cursor < middleEnd {
            let name = i < form.count ? form[i] : (i % 2 == 0 ? "verse" : "chorus")
            let length = min(name == "bridge" ? 4 : 8, middleEnd - cursor)
            if length < 2, var last = sections.popLast() {
                last.bars += length
                sections.append(last)
            } else {
                sections.append(Section(name: name, startBar: cursor, bars: length))
            }
            cursor += length
            i += 1
        }
        sections.append(Section(name: "outro", startBar: cursor, bars: outro))
        return sections
    }
}

/// Counts syllables so a vocal line gets one note per sung syllable.
enum Lyrics {
    static func syllablesPerLine(_ text: String) -> [Int] {
        text.split(whereSeparator: \.isNewline).map { line in
            var count = 0
            var inVowel = false
            for ch in line.lowercased() {
                let vowel = "aeiouyáéíóúü".contains(ch)
                if vowel && !inVowel { count += 1 }
                inVowel = vowel
            }
            return count
        }.filter { $0 > 0 }
    }
}
