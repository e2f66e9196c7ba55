import ArgumentParser
import Foundation
import Son1kMusicEngine

extension Quality: ExpressibleByArgument {}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compose and render one song with the embedded procedural engine, without a server.",
        discussion: """
            Writes a WAV file and prints the arrangement (key, tempo, chords, instruments, sections)
            and the render speed. The same prompt, seed and quality always give the same bytes, so
            this is also how to reproduce a job's audio from its recorded seed.

            Example: son1k render --prompt "sad piano in the rain" --seed 7 --quality high -o song.wav
            """
    )

    @Option(help: "What the song is about; genre, mood and tempo words are read from it.") var prompt: String
    @Option(help: "One of: \(Genre.allCases.map(\.rawValue).joined(separator: ", ")).") var genre: String?
    @Option(help: "One of: \(Mood.allCases.map(\.rawValue).joined(separator: ", ")).") var mood: String?
    @Option(name: .customLong("tempo"), help: "Beats per minute (40–240).") var tempoBPM: Int?
    @Option(help: "A key such as \"A minor\", \"F#m\" or \"Bb\".") var key: String?
    @Option(name: .customLong("duration"), help: "Length in seconds (5–240).") var durationSeconds: Double = 30
    @Option(help: "standard (22.05 kHz mono), high (44.1 kHz stereo) or ultra (44.1 kHz stereo, effects, -14 LUFS).")
    var quality: Quality = .standard
    @Option(help: "The random seed (0–9007199254740991).") var seed: UInt64 = 1
    @Option(help: "Path to a General MIDI .sf2 soundfont (default: the first Debian one installed).") var soundfont = ""
    @Option(name: [.short, .customLong("output")], help: "Where to write the WAV (omit to only measure).") var output: String?
    @Option(help: "Render this many times and report the mean speed (for benchmarks).") var repeatCount = 1
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        guard (5...240).contains(durationSeconds) else { throw ValidationError("--duration must be between 5 and 240 seconds.") }
        guard repeatCount >= 1 else { throw ValidationError("--repeat-count must be at least 1.") }
    }

    func run() throws {
        guard let font = Engines.soundfont(configured: soundfont) else {
            throw ValidationError("No General MIDI soundfont found; install timgm6mb-soundfont or pass --soundfont.")
        }
        let engine = ProceduralEngine(soundfont: font)
        let job = EngineJob(prompt: prompt, genre: genre, mood: mood, tempoBpm: tempoBPM, key: key,
                            durationS: durationSeconds, quality: quality, seed: seed)
        var result: EngineOutput?
        let cpuStart = clock()
        let wallStart = Date()
        for _ in 0..<repeatCount { result = try engine.render(job) { _ in true } }
        let cpu = Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC) / Double(repeatCount)
        let wall = Date().timeIntervalSince(wallStart) / Double(repeatCount)
        guard let result else { return }
        if let output { try Data(result.audio).write(to: URL(fileURLWithPath: output)) }
        var report = result.details
        report["bytes"] = .number(Double(result.audio.count))
        report["cpu_seconds"] = .number(cpu)
        report["wall_seconds"] = .number(wall)
        report["realtime_factor"] = .number(durationSeconds / cpu)
        if json { say(report.jsonString); return }
        say("\(report["genre"].string ?? "") · \(report["mood"].string ?? "") · \(report["key"].string ?? "") · \(report["bpm"].int ?? 0) bpm")
        say("chords: \((report["chords"].array ?? []).compactMap(\.string).joined(separator: " "))")
        say("instruments: \((report["instruments"].array ?? []).map { "\($0["role"].string ?? ""): \($0["name"].string ?? "")" }.joined(separator: ", "))")
        say("sections: \((report["sections"].array ?? []).map { "\($0["name"].string ?? "") \($0["bars"].int ?? 0)" }.joined(separator: ", "))")
        say(String(format: "%.1f s of %@ audio in %.3f s CPU (%.0f× real time)%@", durationSeconds, quality.rawValue, cpu,
                   durationSeconds / cpu, output.map { ", written to \($0)" } ?? ""))
    }
}
