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
    struct Request: Decodable {
        var profileId: String
        var text: String?
        var draftId: String?
        var language: String?
        var emotion: String?
        var intensity: Double?
        var speed: Double?
        var format: String?
        var engine: String?
    }

    /// Fidelity each engine can promise: the embedded one matches pitch, not timbre.
    static func fidelity(of engine: String) -> String { engine == EmbeddedEngine.engineName ? "pitch" : "neural" }
}
