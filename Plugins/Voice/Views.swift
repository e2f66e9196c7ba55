import Foundation
import Son1kPluginKit

/// What a reference recording (or a rendered one) measures.
struct FeaturesView: Codable, Sendable {
    var durationS: Double
    var medianF0Hz: Double
    var meanF0Hz: Double
    /// The 5th and 95th percentiles.
    var f0RangeHz: [Double]
    var loudnessLufs: Double?
    /// Syllables per second.
    var speakingRate: Double
}

/// A voice profile as its owner sees it.
struct ProfileView: Codable, Sendable {
    enum Status: String, Codable, CaseIterable, Sendable {
        case awaitingReference = "awaiting_reference", ready
    }

    struct Consent: Codable, Sendable {
        var statement: String
        var speakerIsMe: Bool
        var givenAt: Date
    }

    struct Reference: Codable, Sendable {
        var blobId: String
        var url: String
    }

    var id: String
    var name: String
    var status: Status
    var consent: Consent
    /// Set once a reference recording is uploaded.
    var features: FeaturesView?
    var reference: Reference?
    var createdAt: Date
    var updatedAt: Date
}

struct ProfileList: Codable, Sendable {
    var data: [ProfileView]
}

/// What a finished synthesis measured.
struct SynthesisOutput: Codable, Sendable {
    var durationS: Double
    var renderS: Double
    var sampleRate: Int
    /// Seconds of speech per second of rendering.
    var realtimeFactor: Double
    var medianF0Hz: Double?
    var meanF0Hz: Double?
    var speakingRate: Double?
}

/// A synthesis job as its owner sees it.
struct VoiceJobView: Codable, Sendable {
    /// `timeout`: an attempt ran past `timeout_s` (not retried).
    enum Status: String, Codable, CaseIterable, Sendable { case queued, processing, completed, failed, timeout }
    /// `pitch`: the embedded engine matches the voice's pitch; `neural`: a cloning model.
    enum Fidelity: String, Codable, CaseIterable, Sendable { case pitch, neural }

    struct Audio: Codable, Sendable {
        var blobId: String
        var size: Int
        var contentType: String
    }

    var id: String
    var status: Status
    /// 0 to 1, three decimals.
    var progress: Double
    var profileId: String
    var engine: String
    var fidelity: Fidelity
    var text: String
    var language: String
    var emotion: String
    var intensity: Double
    var speed: Double
    var format: String
    var attempts: Int
    var maxAttempts: Int
    var error: String?
    var audioUrl: String?
    var audio: Audio?
    var output: SynthesisOutput?
    var createdAt: Date
    var updatedAt: Date
    var finishedAt: Date?
}

struct VoiceJobList: Codable, Sendable {
    var data: [VoiceJobView]
}
