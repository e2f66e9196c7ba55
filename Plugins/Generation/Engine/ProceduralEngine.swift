/// The embedded default engine: the seeded ``Composer`` writes the score, libfluidsynth
/// plays it with a General MIDI soundfont, ``Mastering`` finishes it for the quality.
/// Same job (prompt, seed, quality and the rest) → the same bytes.
public struct ProceduralEngine: GenerationEngine {
    public let name = "procedural"
    public let soundfont: String

    public init(soundfont: String) { self.soundfont = soundfont }

    public func compose(_ job: EngineJob) throws -> Arrangement {
        func parse<T: RawRepresentable<String>>(_ raw: String?, _ field: String) throws -> T? {
            guard let raw else { return nil }
            guard let value = T(rawValue: raw.lowercased()) else { throw EngineError.failed("unknown \(field) '\(raw)'", retryable: false) }
            return value
        }
        var key: Key?
        if let text = job.key {
            guard let k = Key(parsing: text) else { throw EngineError.failed("unknown key '\(text)'", retryable: false) }
            key = k
        }
        return Composer.compose(CompositionRequest(
            prompt: job.prompt, genre: try parse(job.genre, "genre"), mood: try parse(job.mood, "mood"), tempoBPM: job.tempoBpm,
            key: key, durationSeconds: job.durationS, instrumental: job.instrumental, lyrics: job.lyrics, seed: job.seed))
    }

    public func render(_ job: EngineJob, progress: (Double) -> Bool) throws -> EngineOutput {
        let arrangement = try compose(job)
        guard progress(0.05) else { throw EngineError.cancelled }
        // Rendering is ~90% of the time; mastering and encoding the rest.
        let (left, right) = try FluidSynthRenderer.render(arrangement, quality: job.quality, seconds: job.durationS,
                                                          soundfont: soundfont) { progress(0.05 + 0.85 * $0) }
        let samples = Mastering.master(left: left, right: right, quality: job.quality)
        guard progress(0.95) else { throw EngineError.cancelled }
        let wav = WAV.encode(interleaved: samples, sampleRate: job.quality.sampleRate, channels: job.quality.channels)
        var details = arrangement.summary
        details["engine"] = .string(name)
        details["seed"] = .number(Double(job.seed))
        details["sample_rate"] = .number(Double(job.quality.sampleRate))
        details["channels"] = .number(Double(job.quality.channels))
        return EngineOutput(audio: wav, contentType: "audio/wav", details: details)
    }
}
