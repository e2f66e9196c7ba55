import Foundation
// WAV files and loudness live in the shared audio module; engines' users see them through
// this one.
@_exported import Son1kAudio
import Son1kPluginKit

/// What an engine is asked to make: the validated request of a generation job.
public struct EngineJob: Sendable, Codable, Equatable {
    public var prompt: String
    public var genre: String?
    public var mood: String?
    public var tempoBpm: Int?
    public var key: String?
    public var durationS: Double
    public var quality: Quality
    public var lyrics: String?
    public var instrumental: Bool
    public var seed: UInt64

    public init(prompt: String, genre: String? = nil, mood: String? = nil, tempoBpm: Int? = nil, key: String? = nil,
                durationS: Double, quality: Quality, lyrics: String? = nil, instrumental: Bool = true, seed: UInt64) {
        self.prompt = prompt
        self.genre = genre
        self.mood = mood
        self.tempoBpm = tempoBpm
        self.key = key
        self.durationS = durationS
        self.quality = quality
        self.lyrics = lyrics
        self.instrumental = instrumental
        self.seed = seed
    }
}

/// What an engine hands back: the audio and a description for the job's result.
public struct EngineOutput: Sendable {
    public var audio: [UInt8]
    public var contentType: String
    /// Engine-specific details recorded with the job (the procedural engine: key, bpm,
    /// chords, instruments, sections).
    public var details: JSONValue

    public init(audio: [UInt8], contentType: String, details: JSONValue) {
        self.audio = audio
        self.contentType = contentType
        self.details = details
    }
}

public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The job was cancelled while rendering.
    case cancelled
    /// The engine could not make the song; `retryable` says whether trying again may help.
    case failed(String, retryable: Bool = true)
    /// The job could not start for reasons that are not its own (every provider account
    /// resting, the one leased just rate limited): back to the queue after `afterSeconds`,
    /// without counting an attempt.
    case postponed(String, afterSeconds: Double)

    public var description: String {
        switch self {
        case .cancelled: "cancelled"
        case .failed(let message, _): message
        case .postponed(let reason, _): reason
        }
    }
}

/// A way of turning a job into audio. One file per engine: conform, give it a `name`, and
/// add it to the list the generation plugin and `son1k worker` build (``Engines``).
///
/// `render` is called on a worker thread and may take as long as it needs; it reports the
/// fraction done through `progress` and stops (throwing ``EngineError/cancelled``) when
/// `progress` returns false.
public protocol GenerationEngine: Sendable {
    var name: String { get }
    func render(_ job: EngineJob, progress: (_ fraction: Double) -> Bool) throws -> EngineOutput
}

/// The engines built into this binary, by name.
public enum Engines {
    /// Where Debian's General MIDI soundfonts land, in order of preference.
    public static let soundfontCandidates = [
        "/usr/share/sounds/sf2/TimGM6mb.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
        "/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/default.sf2",
    ]

    /// The configured soundfont, or the first candidate that exists.
    public static func soundfont(configured: String) -> String? {
        if !configured.isEmpty { return FileManager.default.fileExists(atPath: configured) ? configured : nil }
        return soundfontCandidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    public static func builtIn(soundfont: String) -> [any GenerationEngine] {
        [ProceduralEngine(soundfont: soundfont)]
    }
}
