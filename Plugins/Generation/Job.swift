import Foundation
import Son1kContracts
import Son1kMusicEngine
import Son1kPluginKit

/// A job's states. `queued → assigned → processing → completed | failed | timeout | cancelled`;
/// a retry or a lost worker puts it back to `queued`.
enum JobStatus: String, Codable, CaseIterable {
    case queued, assigned, processing, completed, failed, timeout, cancelled

    var isActive: Bool { self == .queued || self == .assigned || self == .processing }
    static let leased: [JobStatus] = [.assigned, .processing]
}

/// A row of `generation_jobs`.
struct JobRow: Codable {
    var id: String
    var userId: String
    var status: JobStatus
    var priority: Int
    var engine: String
    var request: String
    var attempts: Int
    var maxAttempts: Int
    var availableAt: Int64
    var workerId: String?
    var workerPrincipal: String?
    var leaseId: String?
    var leasedAt: Int64?
    var progress: Double
    var progressPublished: Double
    var error: String?
    var result: String?
    var audioBlobId: String?
    var audioSize: Int?
    var audioContentType: String?
    var createdMs: Int64
    var createdAt: String
    var updatedAt: String
    var startedAt: String?
    var finishedAt: String?

    var job: EngineJob {
        get throws { try JSONDecoder().decode(EngineJob.self, from: Data(request.utf8)) }
    }

    /// The job as its owner sees it.
    func view(isAdmin: Bool) throws -> JSONValue {
        var v = try job.requestFields
        let fields: [String: JSONValue] = [
            "id": .string(id), "status": .string(status.rawValue),
            "priority": .number(Double(priority)), "engine": .string(engine),
            "progress": .number((progress * 1000).rounded() / 1000), "attempts": .number(Double(attempts)),
            "max_attempts": .number(Double(maxAttempts)), "error": error.map { .string($0) } ?? .null,
            "created_at": .string(createdAt), "updated_at": .string(updatedAt),
            "started_at": startedAt.map { .string($0) } ?? .null, "finished_at": finishedAt.map { .string($0) } ?? .null,
            "result": try result.map { try JSONValue.parse(Array($0.utf8)) } ?? .null,
            "audio": .null,
        ]
        for (k, value) in fields { v[k] = value }
        if status == .queued, attempts > 0 { v["next_attempt_at"] = .string(Clock.iso(availableAt)) }
        if let blob = audioBlobId {
            v["audio"] = ["url": .string("/api/generations/\(id)/audio"), "blob_id": .string(blob),
                          "size": .number(Double(audioSize ?? 0)), "content_type": .string(audioContentType ?? "audio/wav")]
        }
        if isAdmin {
            v["user_id"] = .string(userId)
            v["worker_id"] = workerId.map { .string($0) } ?? .null
        }
        return v
    }

    static let columns = """
        id, user_id, status, priority, engine, request, attempts, max_attempts, available_at, worker_id, worker_principal,
        lease_id, leased_at, progress, progress_published, error, result, audio_blob_id, audio_size, audio_content_type,
        created_ms, created_at, updated_at, started_at, finished_at
        """
}

extension EngineJob {
    /// What `generation.before_create` tells its subscribers.
    func newGeneration(_ id: String, by userID: String) -> NewGeneration {
        NewGeneration(generationId: id, userId: userID, prompt: prompt, genre: genre, mood: mood, tempoBpm: tempoBpm, key: key,
                      durationS: durationS, quality: SongQuality(quality), lyrics: lyrics, instrumental: instrumental, seed: seed)
    }

    /// What the user asked for, as the API shows it (in a job).
    var requestFields: JSONValue {
        [
            "prompt": .string(prompt), "genre": genre.map { .string($0) } ?? .null, "mood": mood.map { .string($0) } ?? .null,
            "tempo_bpm": tempoBpm.map { .number(Double($0)) } ?? .null, "key": key.map { .string($0) } ?? .null,
            "duration_s": .number(durationS), "quality": .string(quality.rawValue), "lyrics": lyrics.map { .string($0) } ?? .null,
            "instrumental": .bool(instrumental), "seed": .number(Double(seed)),
        ]
    }
}

enum Clock {
    static func ms(_ date: Date) -> Int64 { date.epochMs }
    static func iso(_ ms: Int64) -> String { Date(epochMs: ms).iso8601 }
}
