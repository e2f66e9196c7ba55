/// Writes the notes of each part, section by section. The composer decides the form and
/// the progressions; this decides how each instrument plays them.
struct PartWriter {
    let key: Key
    let palette: Palette
    let mood: Mood
    private var drumRNG: SeededRandom
    private var bassRNG: SeededRandom
    private var chordRNG: SeededRandom
    private var melodyRNG: SeededRandom
    private var humanRNG: SeededRandom
    /// One motif per section name, so every chorus sings the same tune.
    private var motifs: [String: [(beat: Double, length: Double, step: Int)]] = [:]
    private var lastVoicing: [Int] = []
    /// Syllables per lyric line; when non-empty the melody follows them.
    var syllables: [Int] = []
    private var lyricLine = 0
    private(set) var notes: [Note] = []

    init(key: Key, palette: Palette, mood: Mood, rng: SeededRandom) {
        self.key = key
        self.palette = palette
        self.mood = mood
        drumRNG = rng.fork("drums")
        bassRNG = rng.fork("bass")
        chordRNG = rng.fork("chords")
        melodyRNG = rng.fork("melody")
        humanRNG = rng.fork("humanise")
    }

    mutating func write(_ section: Section, progression: [Int], isLast: Bool) {
        let intensity: Double = switch section.name {
        case "intro", "outro": 0.6
        case "verse": 0.8
        case "bridge": 0.75
        default: 1.0
        }
        for bar in 0..<section.bars {
            let degree = progression[bar % progression.count]
            let next = progression[(bar + 1) % progression.count]
            let start = Double((section.startBar + bar) * 4)
            let finalBar = isLast && bar == section.bars - 1
            bass(degree: degree, next: next, at: start, intensity: intensity, final: finalBar)
            chords(degree: degree, at: start, intensity: intensity, final: finalBar)
            if section.name == "chorus" || section.name == "bridge", palette.pad != nil {
                pad(degree: degree, at: start)
            }
            if section.name != "intro" && section.name != "outro" {
                melody(section: section.name, barInSection: bar, degree: degree, at: start, intensity: intensity)
            }
            let fill = bar == section.bars - 1 && section.name != "outro" && section.bars >= 4
            drums(section: section.name, bar: bar, at: start, intensity: intensity, fill: fill, final: finalBar)
        }
    }

    // MARK: Parts

    private mutating func bass(degree: Int, next: Int, at start: Double, intensity: Double, final: Bool) {
        let root = key.note(degree: degree, octaveBase: 36)
        let v = velocity(0.95 * intensity)
        if final { add(Composer.bassChannel, root, v, start, 4); return }
        switch palette.bass {
        case .roots:
            add(Composer.bassChannel, root, v, start, 1.8)
            add(Composer.bassChannel, bassRNG.chance(0.5) ? root + 7 : root, v - 10, start + 2, 1.8)
        case .octaves:
            for i in 0..<8 { add(Composer.bassChannel, i % 2 == 0 ? root : root + 12, v - (i % 2) * 8, start + Double(i) * 0.5, 0.45) }
        case .pulse:
            for i in 0..<8 { add(Composer.bassChannel, root, v - (i % 2) * 12, start + swung(Double(i) * 0.5), 0.42) }
        case .sustained:
            add(Composer.bassChannel, root, v, start, 3.9)
        case .walking:
            let third = key.note(degree: degree + 2, octaveBase: 36)
            let fifth = key.note(degree: degree + 4, octaveBase: 36)
            let target = key.note(degree: next, octaveBase: 36)
            let approach = target + (bassRNG.chance(0.5) ? 1 : -1)
            for (i, n) in [root, bassRNG.chance(0.5) ? third : fifth, bassRNG.chance(0.5) ? fifth : third, approach].enumerated() {
                add(Composer.bassChannel, n, v - (i == 0 ? 0 : 8), start + Double(i), 0.9)
            }
        }
    }

    private mutating func chords(degree: Int, at start: Double, intensity: Double, final: Bool) {
        let voicing = voice(key.chord(degree: degree, seventh: palette.sevenths))
        let v = velocity(0.8 * intensity)
        func hit(_ beat: Double, _ length: Double, _ vel: Int) {
            for n in voicing { add(Composer.chordsChannel, n, vel, start + swung(beat), length) }
        }
        if final { hit(0, 4, v); return }
        switch palette.comping {
        case .sustained: hit(0, 3.95, v - 6)
        case .strummed:
            for (beat, len) in [(0.0, 1.4), (1.5, 0.9), (2.5, 0.5), (3.0, 0.9)] { hit(beat, len, beat == 0 ? v : v - 12) }
        case .stabs:
            let pattern = chordRNG.pick([[0.0, 2.5], [1.5, 3.5], [0.5, 2.0, 3.5], [0.0, 1.5, 3.0]])
            for beat in pattern { hit(beat, 0.55, v - 4) }
        case .arpeggio:
            let tones = voicing + [voicing[0] + 12]
            let order = chordRNG.chance(0.5) ? tones + tones.reversed() : tones + tones
            for i in 0..<8 { add(Composer.chordsChannel, order[i % order.count], v - 10, start + Double(i) * 0.5, 0.9) }
        case .offbeat:
            for beat in [0.5, 1.5, 2.5, 3.5] { hit(beat, 0.4, v - 8) }
        }
    }

    private mutating func pad(degree: Int, at start: Double) {
        for n in voice(key.chord(degree: degree, seventh: true), center: 72) {
            add(Composer.padChannel, n, velocity(0.55), start, 3.98)
        }
    }

    private mutating func melody(section: String, barInSection bar: Int, degree: Int, at start: Double, intensity: Double) {
        let lift = section == "chorus" ? 2 : (section == "bridge" ? 1 : 0)
        let v = velocity(intensity)
        // The section's motif covers two bars; odd pairs answer it a step lower, the last
        // pair of a section resolves to the tonic.
        let motif = motifFor(section)
        let half = bar % 2
        let variation = (bar / 2) % 2 == 1 ? -1 : 0
        var events = motif.filter { Int($0.beat / 4) == half }
        if !syllables.isEmpty {
            let count = max(1, min(8, syllables[lyricLine % syllables.count]))
            if half == 1 { lyricLine += 1 }
            events = (0..<count).map { i in (beat: Double(half * 4) + Double(i) * 4 / Double(count), length: 4 / Double(count) * 0.9, step: motif[i % motif.count].step) }
        }
        let chordTones = Set(key.chord(degree: degree, seventh: false))
        for (i, e) in events.enumerated() {
            var step = degree + e.step + lift + variation
            var note = key.note(degree: step, octaveBase: 60)
            // Strong beats land on a chord tone: nudge by a step until one fits.
            if e.beat.truncatingRemainder(dividingBy: 2) == 0 {
                var tries = 0
                while !chordTones.contains((note % 12 + 12) % 12), tries < 3 {
                    step += 1
                    note = key.note(degree: step, octaveBase: 60)
                    tries += 1
                }
            }
            let accent = e.beat.truncatingRemainder(dividingBy: 1) == 0 ? 0 : -10
            add(Composer.leadChannel, min(max(note, 55), 88), v + accent + (i == 0 ? 4 : 0),
                start + swung(e.beat - Double(half * 4)), e.length)
        }
    }

    private mutating func motifFor(_ section: String) -> [(beat: Double, length: Double, step: Int)] {
        if let m = motifs[section] { return m }
        var rng = melodyRNG.fork(section)
        let rhythms: [[(Double, Double)]] = [
            [(0, 1), (1, 0.5), (1.5, 0.5), (2, 1.5)],
            [(0, 0.5), (0.5, 0.5), (1, 1), (2.5, 0.5), (3, 1)],
            [(0, 1.5), (1.5, 0.5), (2, 0.5), (2.5, 0.5), (3, 1)],
            [(0.5, 0.5), (1, 0.5), (1.5, 1), (3, 1)],
            [(0, 2), (2, 1), (3, 1)],
        ]
        var motif: [(beat: Double, length: Double, step: Int)] = []
        var step = rng.int(0...4)
        for half in 0..<2 {
            for (beat, length) in rng.pick(rhythms) {
                motif.append((Double(half * 4) + beat, length * 0.95, step))
                step = min(9, max(-2, step + rng.pick([-2, -1, -1, 1, 1, 2, 0, 3])))
            }
        }
        motifs[section] = motif
        return motif
    }

    private mutating func drums(section: String, bar: Int, at start: Double, intensity: Double, fill: Bool, final: Bool) {
        let kit = DrumPatterns.pattern(palette.groove)
        let sparse = section == "intro" || section == "outro" || section == "bridge"
        let v = velocity(intensity)
        if final {
            add(Composer.drumChannel, DrumPatterns.crash, v, start, 2)
            add(Composer.drumChannel, DrumPatterns.kick, v, start, 0.5)
            return
        }
        if bar == 0 && (section == "chorus" || section == "verse") {
            add(Composer.drumChannel, DrumPatterns.crash, v - 6, start, 2)
        }
        for lane in kit {
            if sparse && lane.optional { continue }
            for (step, hit) in lane.steps.enumerated() where hit {
                if fill && step >= 12 && lane.note != DrumPatterns.kick { continue }
                let beat = Double(step) / 4
                let humanise = drumRNG.int(-6...6)
                add(Composer.drumChannel, lane.note, v + lane.accent + humanise, start + swung(beat), 0.25)
            }
        }
        if fill {
            for step in 12..<16 {
                add(Composer.drumChannel, step % 2 == 0 ? DrumPatterns.snare : DrumPatterns.midTom, v - 20 + (step - 12) * 6, start + Double(step) / 4, 0.25)
            }
        }
    }

    // MARK: Helpers

    /// A chord's pitch classes placed near `center`, each voice moving as little as possible
    /// from the previous chord.
    private mutating func voice(_ pitchClasses: [Int], center: Int = 62) -> [Int] {
        let notes = pitchClasses.map { pc -> Int in
            var n = center - 6 + ((pc - (center - 6)) % 12 + 12) % 12
            if center == 62, let nearest = lastVoicing.min(by: { abs($0 - n) < abs($1 - n) }), abs(nearest - (n - 12)) < abs(nearest - n), n - 12 >= 50 { n -= 12 }
            return n
        }.sorted()
        if center == 62 { lastVoicing = notes }
        return notes
    }

    /// Delays off-beat eighths by the genre's swing.
    private func swung(_ beat: Double) -> Double {
        let frac = beat.truncatingRemainder(dividingBy: 1)
        return abs(frac - 0.5) < 1e-9 ? beat + palette.swing / 6 : beat
    }

    private mutating func velocity(_ scale: Double) -> Int {
        Int(Double(mood.energy) * scale) + humanRNG.int(-5...5)
    }

    private mutating func add(_ channel: Int, _ key: Int, _ velocity: Int, _ start: Double, _ length: Double) {
        let jitter = channel == Composer.drumChannel ? 0 : Double(humanRNG.int(-4...4)) / 400
        notes.append(Note(channel: channel, key: key, velocity: min(127, max(1, velocity)), start: max(0, start + jitter), length: length))
    }
}

/// General MIDI drum grooves on a 16-step (sixteenth-note) grid, one lane per drum.
enum DrumPatterns {
    static let kick = 36, snare = 38, sideStick = 37, clap = 39, closedHat = 42, pedalHat = 44, openHat = 46
    static let crash = 49, ride = 51, midTom = 47, shaker = 70

    struct Lane {
        var note: Int
        var steps: [Bool]
        var accent: Int
        /// Left out in intros, bridges and outros.
        var optional: Bool
    }

    static func lane(_ note: Int, _ pattern: String, accent: Int = 0, optional: Bool = false) -> Lane {
        Lane(note: note, steps: pattern.map { $0 == "x" }, accent: accent, optional: optional)
    }

    static func pattern(_ groove: Palette.Groove) -> [Lane] {
        switch groove {
        case .backbeat:
            [lane(kick, "x.....x.x.......", accent: 4, optional: true), lane(snare, "....x.......x..."),
             lane(closedHat, "x.x.x.x.x.x.x.x.", accent: -22)]
        case .fourOnFloor:
            [lane(kick, "x...x...x...x...", accent: 6), lane(clap, "....x.......x...", optional: true),
             lane(closedHat, "x.x.x.x.x.x.x.x.", accent: -30), lane(openHat, "..x...x...x...x.", accent: -20, optional: true)]
        case .trap:
            [lane(kick, "x......x..x.....", accent: 6, optional: true), lane(clap, "........x......."),
             lane(closedHat, "xxxxxxxxxxxxxxxx", accent: -30)]
        case .swingRide:
            [lane(ride, "x...x.x.x...x.x.", accent: -12), lane(pedalHat, "....x.......x...", accent: -20),
             lane(kick, "x.......x.......", accent: -40, optional: true)]
        case .dembow:
            [lane(kick, "x...x...x...x...", accent: 4), lane(snare, "...x..x....x..x.", accent: -6, optional: true),
             lane(closedHat, "x.x.x.x.x.x.x.x.", accent: -28)]
        case .brushes:
            [lane(kick, "x.......x.......", accent: -10, optional: true), lane(sideStick, "....x.......x...", accent: -8),
             lane(shaker, "x.x.x.x.x.x.x.x.", accent: -30)]
        case .shuffle:
            [lane(kick, "x.......x.......", optional: true), lane(snare, "....x.......x..."),
             lane(closedHat, "x.x.x.x.x.x.x.x.", accent: -20)]
        case .doubleKick:
            [lane(kick, "xxxxxxxxxxxxxxxx", accent: -4, optional: true), lane(snare, "....x.......x...", accent: 6),
             lane(ride, "x.x.x.x.x.x.x.x.", accent: -16)]
        case .none:
            []
        }
    }
}
