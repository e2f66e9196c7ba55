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
    /// JSON of ``StyleNames/Mapping`` by field, when a genre or mood was read as another.
    var mapped: String?
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
    var createdAt: Date
    var updatedAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    /// Its job on the kernel's queue.
    var jobId: String?

    var job: EngineJob {
        get throws { try EngineJob(stored: request) }
    }

    /// The job as its owner sees it; admins also see whose it is and which worker holds it.
    ///
    /// `media` holds the signed URLs of audio blobs (``Generations/views(_:isAdmin:)`` asks for
    /// a page's in one call); without one, `audio.url` is the authenticated download.
    func view(isAdmin: Bool, media: [String: String] = [:]) throws -> GenerationView {
        let job = try self.job
        return GenerationView(
            id: id, status: status, prompt: job.prompt, genre: job.genre.flatMap(Genre.init(rawValue:)), mood: job.mood.flatMap(Mood.init(rawValue:)),
            tempoBpm: job.tempoBpm, key: job.key, durationS: job.durationS, quality: job.quality, lyrics: job.lyrics,
            instrumental: job.instrumental, seed: job.seed, priority: priority, engine: engine,
            progress: (progress * 1000).rounded() / 1000, attempts: attempts, maxAttempts: maxAttempts, error: error,
            nextAttemptAt: status == .queued && attempts > 0 ? Date(epochMs: availableAt) : nil,
            result: try result.map { try JSONValue.parse(Array($0.utf8)) },
            mapped: try mapped.map { try JSONDecoder().decode([String: StyleNames.Mapping].self, from: Data($0.utf8)) },
            audio: audioBlobId.map { .init(url: media[$0] ?? "/api/generations/\(id)/audio", downloadUrl: "/api/generations/\(id)/audio", blobId: $0, size: audioSize ?? 0, contentType: audioContentType ?? "audio/wav") },
            createdAt: createdAt, updatedAt: updatedAt, startedAt: startedAt, finishedAt: finishedAt,
            userId: isAdmin ? userId : nil, workerId: isAdmin ? workerId : nil)
    }

    static let columns = """
        id, user_id, status, priority, engine, request, mapped, attempts, max_attempts, available_at, worker_id, worker_principal,
        lease_id, leased_at, progress, progress_published, error, result, audio_blob_id, audio_size, audio_content_type,
        created_ms, created_at, updated_at, started_at, finished_at, job_id
        """
}

extension EngineJob {
    /// What `generation.before_create` tells its subscribers.
    func newGeneration(_ id: String, by userID: String) -> NewGeneration {
        NewGeneration(generationId: id, userId: userID, prompt: prompt, genre: genre, mood: mood, tempoBpm: tempoBpm, key: key,
                      durationS: durationS, quality: SongQuality(quality), lyrics: lyrics, instrumental: instrumental, seed: seed)
    }
}

enum Clock {
    static func ms(_ date: Date) -> Int64 { date.epochMs }
    static func iso(_ ms: Int64) -> String { Date(epochMs: ms).iso8601 }
}

extension EngineJob {
    /// A request as `generation_jobs.request` stores it.
    init(stored request: String) throws {
        self = try JSONDecoder().decode(EngineJob.self, from: Data(request.utf8))
    }
}
