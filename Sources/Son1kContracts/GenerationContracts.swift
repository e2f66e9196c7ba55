import Son1kPluginKit

/// The generation plugin's events, as its subscribers read them (the tiers plugin gives
/// slots back and confirms them, the community pool shares songs).
///
/// ```swift
/// r.onAction(Topic.generationCompleted) { event, ctx in
///     try quota(ctx).confirm(event.payload.generationId, size: event.payload.size)
/// }
/// ```
extension Topic where Payload == GenerationCompleted {
    /// A song is ready: its audio is a blob of its owner's.
    public static let generationCompleted = Topic("generation.completed")
}

extension Topic where Payload == GenerationDeleted {
    /// A finished song and its audio were deleted by their owner (or an admin).
    public static let generationDeleted = Topic("generation.deleted")
}

extension Topic where Payload == GenerationEnded {
    /// The job failed for good (out of attempts, or a failure not worth retrying).
    public static let generationFailed = Topic("generation.failed")
    /// The job ran longer than the deployment's `timeout_s`.
    public static let generationTimedOut = Topic("generation.timeout")
    /// The owner cancelled the job before it finished.
    public static let generationCancelled = Topic("generation.cancelled")
}

/// The qualities a song is rendered at.
public enum SongQuality: String, Codable, CaseIterable, Sendable {
    case standard, high, ultra
}

/// `generation.completed`.
public struct GenerationCompleted: Codable, Sendable, Equatable {
    public var generationId: String
    public var userId: String
    public var quality: SongQuality
    public var durationS: Double
    public var genre: String?
    public var engine: String
    public var seed: UInt64
    public var attempts: Int
    public var audioBlobId: String
    /// Bytes of audio stored.
    public var size: Int64
    public var contentType: String

    public init(generationId: String, userId: String, quality: SongQuality, durationS: Double, genre: String?, engine: String,
                seed: UInt64, attempts: Int, audioBlobId: String, size: Int64, contentType: String) {
        self.generationId = generationId
        self.userId = userId
        self.quality = quality
        self.durationS = durationS
        self.genre = genre
        self.engine = engine
        self.seed = seed
        self.attempts = attempts
        self.audioBlobId = audioBlobId
        self.size = size
        self.contentType = contentType
    }
}

/// `generation.deleted`.
public struct GenerationDeleted: Codable, Sendable, Equatable {
    public var generationId: String
    public var userId: String
    /// Bytes of audio freed.
    public var size: Int64
    public var audioBlobId: String?

    public init(generationId: String, userId: String, size: Int64, audioBlobId: String?) {
        self.generationId = generationId
        self.userId = userId
        self.size = size
        self.audioBlobId = audioBlobId
    }
}

/// `generation.failed`, `generation.timeout` and `generation.cancelled`: the job ended without a song.
public struct GenerationEnded: Codable, Sendable, Equatable {
    public var generationId: String
    public var userId: String
    /// Why, for failures and time-outs.
    public var error: String?
    public var attempts: Int?

    public init(generationId: String, userId: String, error: String? = nil, attempts: Int? = nil) {
        self.generationId = generationId
        self.userId = userId
        self.error = error
        self.attempts = attempts
    }
}

/// The stored facts of one generation, for plugins that build on finished songs (the
/// community pool): they never take quality or ownership from a client's request.
extension Service where Input == GenerationLookup, Output == GenerationFacts {
    /// 404 `generation_not_found` for an id that does not exist.
    public static let generationLookup = Service("generation.lookup")
}

/// `generation.lookup`'s input.
public struct GenerationLookup: Codable, Sendable, Equatable {
    public var generationId: String
    public init(generationId: String) { self.generationId = generationId }
}

/// `generation.lookup`'s answer.
public struct GenerationFacts: Codable, Sendable, Equatable {
    public var generationId: String
    public var userId: String
    /// `queued`, `assigned`, `processing`, `completed`, `failed`, `timeout` or `cancelled`.
    public var status: String
    public var quality: SongQuality
    public var durationS: Double
    public var genre: String?
    /// Present once completed.
    public var audioBlobId: String?
    public var size: Int64
    public var contentType: String?
    public var finishedAt: String?

    public init(generationId: String, userId: String, status: String, quality: SongQuality, durationS: Double, genre: String?,
                audioBlobId: String?, size: Int64, contentType: String?, finishedAt: String?) {
        self.generationId = generationId
        self.userId = userId
        self.status = status
        self.quality = quality
        self.durationS = durationS
        self.genre = genre
        self.audioBlobId = audioBlobId
        self.size = size
        self.contentType = contentType
        self.finishedAt = finishedAt
    }
}

extension Topic where Payload == NewGeneration {
    /// Hook, inside the transaction that creates a job: a subscriber may veto (the client gets
    /// its problem) or raise the job's `priority`. The tiers plugin takes a quota slot here.
    public static let generationBeforeCreate = Topic("generation.before_create")
}

/// `generation.before_create`: the job about to be queued, as the user asked for it.
public struct NewGeneration: Codable, Sendable, Equatable {
    public var generationId: String
    public var userId: String
    public var prompt: String
    public var genre: String?
    public var mood: String?
    public var tempoBpm: Int?
    public var key: String?
    public var durationS: Double
    public var quality: SongQuality
    public var lyrics: String?
    public var instrumental: Bool
    public var seed: UInt64
    /// The job's queue priority, -100 to 100 (higher goes first); subscribers may raise it.
    public var priority: Int

    public init(generationId: String, userId: String, prompt: String, genre: String? = nil, mood: String? = nil, tempoBpm: Int? = nil,
                key: String? = nil, durationS: Double, quality: SongQuality, lyrics: String? = nil, instrumental: Bool = false,
                seed: UInt64, priority: Int = 0) {
        self.generationId = generationId
        self.userId = userId
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
        self.priority = priority
    }
}

extension Topic where Payload == GenerationProgress {
    /// Rendering advanced (at most once per tenth of the work), or the job went back to the
    /// queue for another attempt (`status: queued`, with `next_attempt_at` and `error`).
    public static let generationProgress = Topic("generation.progress")
}

/// `generation.progress`.
public struct GenerationProgress: Codable, Sendable, Equatable {
    public var generationId: String
    public var status: String
    /// 0 to 1, three decimals.
    public var progress: Double
    public var attempt: Int
    public var nextAttemptAt: String?
    public var error: String?
    public init(generationId: String, status: String, progress: Double, attempt: Int, nextAttemptAt: String? = nil, error: String? = nil) {
        self.generationId = generationId
        self.status = status
        self.progress = progress
        self.attempt = attempt
        self.nextAttemptAt = nextAttemptAt
        self.error = error
    }
}

extension Topic where Payload == GenerationQueued {
    /// A job entered the queue (published in the transaction that stored it).
    public static let generationQueued = Topic("generation.queued")
}

/// `generation.queued`.
public struct GenerationQueued: Codable, Sendable, Equatable {
    public var generationId: String
    public var userId: String
    public var status: String
    public var priority: Int
    public var engine: String
    public var quality: SongQuality
    public var durationS: Double
    public var createdAt: String
    public init(generationId: String, userId: String, status: String, priority: Int, engine: String, quality: SongQuality,
                durationS: Double, createdAt: String) {
        self.generationId = generationId
        self.userId = userId
        self.status = status
        self.priority = priority
        self.engine = engine
        self.quality = quality
        self.durationS = durationS
        self.createdAt = createdAt
    }
}
