import Son1kPluginKit

/// The voice plugin's job events, for front ends (over the event stream) and other plugins.
extension Topic where Payload == VoiceQueued {
    public static let voiceQueued = Topic("voice.queued")
}

extension Topic where Payload == VoiceProgress {
    /// Rendering advanced, or the job went back to the queue (`status: queued` with `error`).
    public static let voiceProgress = Topic("voice.progress")
}

extension Topic where Payload == VoiceCompleted {
    public static let voiceCompleted = Topic("voice.completed")
}

extension Topic where Payload == VoiceFailed {
    public static let voiceFailed = Topic("voice.failed")
}

/// `voice.queued`.
public struct VoiceQueued: Codable, Sendable, Equatable {
    public var jobId: String
    public var profileId: String
    public init(jobId: String, profileId: String) {
        self.jobId = jobId
        self.profileId = profileId
    }
}

/// `voice.progress`.
public struct VoiceProgress: Codable, Sendable, Equatable {
    public var jobId: String
    /// 0 to 1.
    public var progress: Double
    /// `queued` when the job went back to the queue; absent while it renders.
    public var status: String?
    /// Why it went back.
    public var error: String?
    public init(jobId: String, progress: Double, status: String? = nil, error: String? = nil) {
        self.jobId = jobId
        self.progress = progress
        self.status = status
        self.error = error
    }
}

/// `voice.completed`.
public struct VoiceCompleted: Codable, Sendable, Equatable {
    public var jobId: String
    /// `/api/blobs/{id}`, readable by the job's owner.
    public var audioUrl: String
    public init(jobId: String, audioUrl: String) {
        self.jobId = jobId
        self.audioUrl = audioUrl
    }
}

/// `voice.failed`.
public struct VoiceFailed: Codable, Sendable, Equatable {
    public var jobId: String
    public var error: String
    public init(jobId: String, error: String) {
        self.jobId = jobId
        self.error = error
    }
}
