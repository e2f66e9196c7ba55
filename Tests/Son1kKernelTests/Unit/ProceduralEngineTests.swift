import Foundation
import Son1kMusicEngine
import Synchronization
import Testing

/// The embedded engine on its own: composition rules, rendering through libfluidsynth,
/// mastering and the WAV it writes.
@Suite struct ProceduralEngineTests {
    static let soundfont = Engines.soundfont(configured: "") ?? "missing"
    let engine = ProceduralEngine(soundfont: soundfont)

    func job(_ prompt: String = "a happy pop song", genre: String? = nil, mood: String? = nil, quality: Quality = .standard,
             duration: Double = 8, seed: UInt64 = 1) -> EngineJob {
        EngineJob(prompt: prompt, genre: genre, mood: mood, durationS: duration, quality: quality, seed: seed)
    }

    @Test(arguments: Quality.allCases)
    func rendersAWAVOfTheRequestedShapeThatIsNotSilence(quality: Quality) throws {
        let out = try engine.render(job(quality: quality, duration: 7)) { _ in true }
        let wav = try #require(WAV.parse(out.audio))
        #expect(wav.sampleRate == quality.sampleRate)
        #expect(wav.channels == quality.channels)
        #expect(wav.bitsPerSample == 16)
        #expect(abs(wav.durationSeconds - 7) < 0.01)
        #expect(wav.rms16(out.audio) > 0.02)
        #expect(out.details["sample_rate"].int == quality.sampleRate)
    }

    @Test func sameJobSameBytesAndSeedOrGenreChangeThem() throws {
        let a = try engine.render(job(seed: 42)) { _ in true }.audio
        let b = try engine.render(job(seed: 42)) { _ in true }.audio
        let otherSeed = try engine.render(job(seed: 43)) { _ in true }.audio
        let otherGenre = try engine.render(job(genre: "metal", seed: 42)) { _ in true }.audio
        let same = a == b, seedDiffers = a != otherSeed, genreDiffers = a != otherGenre
        #expect(same && seedDiffers && genreDiffers)
    }

    @Test func genreAndMoodChangeInstrumentsTempoModeAndGroove() throws {
        let jazz = try engine.compose(job("", genre: "jazz", mood: "happy"))
        let metal = try engine.compose(job("", genre: "metal", mood: "dark"))
        let ambient = try engine.compose(job("", genre: "ambient", mood: "calm"))
        #expect(jazz.tracks.map(\.instrument) != metal.tracks.map(\.instrument))
        #expect(metal.bpm > jazz.bpm && jazz.bpm > ambient.bpm)
        #expect(jazz.key.mode == .major && metal.key.mode != .major)
        #expect(!ambient.tracks.contains { $0.role == "drums" })
        let kicks = { (a: Arrangement) in a.notes.filter { $0.channel == 9 && $0.key == 36 }.count }
        #expect(kicks(metal) > 2 * kicks(jazz))
    }

    @Test func thePromptIsReadForGenreMoodAndTempo() throws {
        let a = try engine.compose(job("canción triste de reggaeton a 92 bpm"))
        #expect(a.genre == .latin && a.mood == .sad && a.bpm == 92)
        #expect(a.summary["chords"].array?.isEmpty == false)
    }

    @Test func theFormFillsTheDurationWithIntroVerseChorusOutro() throws {
        let a = try engine.compose(job(duration: 120))
        #expect(a.sections.first?.name == "intro" && a.sections.last?.name == "outro")
        #expect(a.sections.contains { $0.name == "verse" } && a.sections.contains { $0.name == "chorus" })
        let bars = a.sections.reduce(0) { $0 + $1.bars }
        #expect(Double(bars * 4) >= a.totalBeats && Double((bars - 1) * 4) < a.totalBeats)
        for (s, next) in zip(a.sections, a.sections.dropFirst()) { #expect(s.startBar + s.bars == next.startBar) }
        #expect(a.notes.allSatisfy { $0.start < a.totalBeats && (0...127).contains($0.key) && (1...127).contains($0.velocity) })
    }

    @Test func ultraIsLoudnessNormalisedAndStandardIsPeakNormalised() throws {
        let ultra = try engine.render(job(quality: .ultra, duration: 10)) { _ in true }.audio
        let standard = try engine.render(job(quality: .standard, duration: 10)) { _ in true }.audio
        let peak = { (bytes: [UInt8]) -> Double in
            let wav = WAV.parse(bytes)!
            var m = 0
            var i = wav.dataRange.lowerBound
            while i + 1 < wav.dataRange.upperBound { m = max(m, abs(Int(Int16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8)))); i += 2 }
            return Double(m) / 32768
        }
        #expect(abs(peak(standard) - 0.891) < 0.01)
        #expect(peak(ultra) <= 0.892)
        #expect(WAV.parse(ultra)!.rms16(ultra) > WAV.parse(standard)!.rms16(standard))
    }

    @Test func progressIsReportedAndReturningFalseCancels() throws {
        var seen: [Double] = []
        _ = try engine.render(job()) { seen.append($0); return true }
        #expect(seen.count >= 5 && seen == seen.sorted() && (seen.last ?? 0) >= 0.9)
        #expect(throws: EngineError.cancelled) { try engine.render(job()) { $0 < 0.3 } }
    }

    @Test func aBrokenSoundfontIsAnEngineFailure() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-soundfont-\(UUID()).sf2").path
        try Data("not a soundfont".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: EngineError.self) { try ProceduralEngine(soundfont: path).render(job()) { _ in true } }
    }

    @Test func keysParse() {
        #expect(Key(parsing: "A minor")?.description == "A minor")
        #expect(Key(parsing: "F#m")?.description == "F# minor")
        #expect(Key(parsing: "Bb")?.description == "Bb major")
        #expect(Key(parsing: "c dorian")?.description == "C dorian")
        #expect(Key(parsing: "H") == nil && Key(parsing: "C blues") == nil)
    }

    @Test func wavParsingRejectsWhatIsNotAWAV() {
        #expect(WAV.parse(Array("RIFF....WAVEjunk".utf8)) == nil)
        #expect(WAV.parse([]) == nil)
        let wav = WAV.encode(interleaved: [0, 0.5, -0.5, 1], sampleRate: 8000, channels: 2)
        let parsed = WAV.parse(wav)
        #expect(parsed?.sampleRate == 8000 && parsed?.channels == 2 && parsed?.frames == 2 && parsed?.dataRange == 44..<52)
    }

    @Test func concurrentRendersGiveTheSameBytesAsOneAlone() throws {
        let job = job("a calm folk song", seed: 99)
        let alone = try engine.render(job) { _ in true }.audio
        let results = Mutex<[[UInt8]]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            if let audio = try? engine.render(job, progress: { _ in true }).audio { results.withLock { $0.append(audio) } }
        }
        let all = results.withLock { $0 }
        let identical = all.count == 4 && all.allSatisfy { $0 == alone }
        #expect(identical, "4 concurrent renders match the one rendered alone")
    }
}

