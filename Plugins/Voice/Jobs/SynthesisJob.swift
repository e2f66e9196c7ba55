import Foundation
import Son1kPluginKit

/// What a synthesis job asks for, as stored with it.
struct SynthesisJob: Codable, Sendable {
    var profileId: String
    var text: String
    var language: String
    var emotion: String
    var intensity: Double
    var speed: Double
    var format: String
    var engine: String

    var prosody: Prosody { Prosody.of(Emotion(rawValue: emotion) ?? .neutral, intensity: intensity, speed: speed) }

    /// The body of `POST /api/voice/synthesize`, checked field by field.
    /// The body of `POST /api/voice/synthesize`.
    struct Request: Codable, Sendable, SchemaRules {
        var profileId: String
        var text: String?
        var draftId: String?
        var language: String?
        var emotion: String?
        var intensity: Double?
        var speed: Double?
        var format: String?
        var engine: String?

        static let schemaRules: [FieldRule] = [
            .length("text", 1...2000), .describe("text", "What to say; or `draft_id`, one of your lyric drafts."),
            .describe("language", "Default en."), .oneOf("emotion", Emotion.allCases.map(\.rawValue)), .range("intensity", 0...1),
            .range("speed", 0.5...2), .oneOf("format", AudioFormat.allCases.map(\.rawValue)),
            .describe("engine", "embedded or remote, among the deployment's engines."),
        ]
    }

    /// Fidelity each engine can promise: the embedded one matches pitch, not timbre.
    static func fidelity(of engine: String) -> VoiceJobView.Fidelity { engine == EmbeddedEngine.engineName ? .pitch : .neural }
}

/// The kernel job that speaks one synthesis request: the voice job it belongs to, whose row
/// holds the request and, once done, the audio.
struct Synthesis: JobArgs {
    static let kind = "synthesis"
    static let queue = "synthesis"
    var voiceJobId: String
}
