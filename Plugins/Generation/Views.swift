import Foundation
import Son1kMusicEngine
import Son1kPluginKit

/// A generation as the API shows it: what was asked, where the job is, and the song once done.
struct GenerationView: Codable, Sendable {
    /// The stored song: `url` serves it with Range support.
    struct Audio: Codable, Sendable {
        /// Signed and expiring: plays in `<audio src>` with no `Authorization` header.
        var url: String
        /// The authenticated download (`Content-Disposition` with a file name).
        var downloadUrl: String
        var blobId: String
        var size: Int
        var contentType: String
    }

    var id: String
    var status: JobStatus
    var prompt: String
    var genre: Genre?
    var mood: Mood?
    var tempoBpm: Int?
    var key: String?
    var durationS: Double
    var quality: Quality
    var lyrics: String?
    var instrumental: Bool
    var seed: UInt64
    var priority: Int
    var engine: String
    /// 0 to 1, three decimals.
    var progress: Double
    var attempts: Int
    var maxAttempts: Int
    var error: String?
    /// When a job back in the queue after a failed attempt is tried again.
    var nextAttemptAt: Date?
    /// What the engine reports about the song (key, bpm, chords, instruments, sections, seed):
    /// free-form, as each engine has its own.
    var result: JSONValue?
    /// Names read as others: `{"genre": {"given": "Hip Hop", "used": "hiphop"}}`.
    var mapped: [String: StyleNames.Mapping]?
    var audio: Audio?
    var createdAt: Date
    var updatedAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    /// `id` again, under the name the original front ends read (set by `POST /api/generate`).
    var generationId: String?
    /// For admins: whose it is and which worker holds it.
    var userId: String?
    var workerId: String?
}

/// A page of generations, newest first.
struct GenerationPage: Codable, Sendable {
    var items: [GenerationView]
    /// Pass as `cursor` for the next page; absent on the last.
    var nextCursor: String?
}

/// The body of `POST /api/worker/heartbeat`.
struct Heartbeat: Codable, Sendable, SchemaRules {
    var workerId: String
    var engines: [String]?
    /// The jobs the worker is rendering.
    var jobIds: [String]?
    static let schemaRules: [FieldRule] = [.pattern("worker_id", WorkerRules.idPattern)]
}

/// The answer to a heartbeat.
struct HeartbeatAnswer: Codable, Sendable {
    /// Jobs among `job_ids` the worker no longer holds (cancelled, timed out, re-queued): abandon them.
    var stop: [String]
    var heartbeatIntervalS: Double
}

/// The body of `POST /api/worker/jobs/{id}/progress`.
struct ProgressReport: Codable, Sendable, SchemaRules {
    var workerId: String
    var leaseId: String
    var progress: Double
    static let schemaRules: [FieldRule] = [.pattern("worker_id", WorkerRules.idPattern), .range("progress", 0...1)]
}

/// The answer to a progress report.
struct ProgressAnswer: Codable, Sendable {
    var status: JobStatus
    var progress: Double
}

/// The body of `POST /api/worker/jobs/{id}/fail`.
struct FailureReport: Codable, Sendable, SchemaRules {
    var workerId: String
    var leaseId: String
    var error: String
    /// Default true: back to the queue after a backoff until `max_attempts`.
    var retryable: Bool?
    static let schemaRules: [FieldRule] = [.pattern("worker_id", WorkerRules.idPattern)]
}

/// A worker as the queue knows it.
struct WorkerView: Codable, Sendable {
    var id: String
    /// `builtin` or `external`.
    var kind: String
    /// The credentials it uses.
    var principal: String
    var engines: [String]
    var lastSeenAt: Date
    var firstSeenAt: Date
    var alive: Bool
    var currentJob: String?
    var completed: Int
    var failed: Int
}

struct WorkerList: Codable, Sendable {
    var workers: [WorkerView]
}

enum WorkerRules {
    static let idPattern = "^[A-Za-z0-9._:-]{1,100}$"
}
