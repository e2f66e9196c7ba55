import Foundation
import Son1kContracts
import Son1kPluginKit

/// One stored synthesis request: what was asked, where it stands (kept in step with its
/// kernel job by ``VoiceJobs/apply(_:)``), and the audio once spoken.
struct VoiceJobRow: Decodable, Sendable {
    static let columns = """
        id, user_id, profile_id, status, engine, request, attempts, max_attempts, progress, error, \
        audio_blob_id, audio_size, content_type, output, created_at, updated_at, finished_at
        """
    var id: String
    var userId: String
    var profileId: String
    var status: VoiceJobView.Status
    var engine: String
    var request: String
    var attempts: Int
    var maxAttempts: Int
    var progress: Double
    var error: String?
    var audioBlobId: String?
    var audioSize: Int?
    var contentType: String?
    var output: String?
    var createdAt: Date
    var updatedAt: Date
    var finishedAt: Date?

    var job: SynthesisJob { get throws { try JSONDecoder().decode(SynthesisJob.self, from: Data(request.utf8)) } }

    /// The job, with `media` the signed URLs of audio blobs (``VoiceJobs/views(_:)``).
    func view(media: [String: String]) throws -> VoiceJobView {
        let job = try self.job
        return VoiceJobView(
                id: id, status: status, progress: (progress * 1000).rounded() / 1000,
                profileId: profileId, engine: engine, fidelity: SynthesisJob.fidelity(of: engine), text: job.text, language: job.language,
                emotion: job.emotion, intensity: job.intensity, speed: job.speed, format: job.format, attempts: attempts,
                maxAttempts: maxAttempts, error: error, audioUrl: audioBlobId.map { media[$0] ?? "/api/blobs/\($0)" },
                audio: audioBlobId.map { .init(blobId: $0, size: audioSize ?? 0, contentType: contentType ?? "audio/wav") },
                output: try output.map { try JSONValueDecoder.decode(SynthesisOutput.self, from: JSONValue.parse(Array($0.utf8))) },
                createdAt: createdAt, updatedAt: updatedAt, finishedAt: finishedAt)
    }
}

/// Synthesis requests on the kernel's job queue. A request is a row of `voice_jobs` and a
/// kernel job (``Synthesis``) enqueued in the same transaction, within the per-user limit the
/// kernel counts there; the kernel retries, postpones and times out the job, and every change
/// it makes reaches ``apply(_:)`` inside its transaction, which keeps the row's status in step
/// and publishes the `voice.*` actions.
struct VoiceJobs {
    let ctx: Context<VoicePlugin.Config>

    /// Jobs as their owner sees them, with signed audio URLs from one kernel call.
    func views(_ rows: [VoiceJobRow]) throws -> [VoiceJobView] {
        let media = try ctx.blobs.urls(rows.compactMap(\.audioBlobId))
        return try rows.map { try $0.view(media: media) }
    }

    func create(_ job: SynthesisJob, for user: String) throws -> VoiceJobRow {
        let id = "vjob_" + Crypto.randomToken(12)
        let request = String(decoding: try JSONEncoder().encode(job), as: UTF8.self)
        let now = ctx.now
        do {
            try ctx.db.transaction { tx in
                try tx.exec("""
                    INSERT INTO voice_jobs (id, user_id, profile_id, status, engine, request, max_attempts, created_ms, created_at, updated_at)
                    VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)
                    """, [.text(id), .text(user), .text(job.profileId), .text(job.engine), .text(request), .int(Int64(ctx.config.maxAttempts)),
                          .int(now.epochMs), .text(now.iso8601), .text(now.iso8601)])
                let queued = try ctx.jobs.enqueue(Synthesis(voiceJobId: id), options: options(for: user), in: tx)
                try tx.exec("UPDATE voice_jobs SET job_id = ? WHERE id = ?", [.text(queued.id), .text(id)])
            }
        } catch let error as PluginError where error.code == "too_many_active_jobs" {
            throw PluginError(status: 429, code: "too_many_active",
                              detail: "You have \(ctx.config.maxActivePerUser) voice jobs waiting or running; wait for one to finish.",
                              headers: ["Retry-After": "5"])
        }
        return try get(id)!
    }

    /// How the kernel runs a user's synthesis: the plugin's attempts, backoff, time limit and
    /// postponements, and at most `max_active_per_user` at once.
    func options(for user: String) -> JobOptions {
        JobOptions(ownerID: user, maxAttempts: ctx.config.maxAttempts, timeout: Double(ctx.config.timeoutS),
                   backoffBaseMs: ctx.config.retryBaseMs, maxPostponements: ctx.config.maxRequeues,
                   maxActivePerOwner: ctx.config.maxActivePerUser)
    }

    func get(_ id: String, in db: Database? = nil) throws -> VoiceJobRow? {
        try (db ?? ctx.db).queryOne(VoiceJobRow.self, "SELECT \(VoiceJobRow.columns) FROM voice_jobs WHERE id = ?", [.text(id)])
    }

    func visible(_ id: String, to user: String) throws -> VoiceJobRow {
        guard let row = try get(id), row.userId == user else { throw PluginError.notFound("You have no voice job \(id).", code: "job_not_found") }
        return row
    }

    /// A change of a synthesis job, inside the kernel's transaction: the row follows, and the
    /// owner hears of it.
    func apply(_ change: JobChange<Synthesis>) throws {
        let db = ctx.db
        guard let row = try get(change.args.voiceJobId, in: db) else { return }
        let job = change.job
        let status: VoiceJobView.Status = switch job.state {
        case .queued: .queued
        case .running: .processing
        case .completed: .completed
        case .failed, .cancelled: .failed
        case .timeout: .timeout
        }
        let progress = job.state == .completed ? 1 : (job.state == .running ? job.progress ?? 0 : 0)
        let now = ctx.now
        try db.exec("""
            UPDATE voice_jobs SET status = ?, attempts = ?, progress = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ?
            """, [.text(status.rawValue), .int(Int64(job.attempt)), .double(progress), SQLValue(job.state == .completed ? nil : job.error),
                  .text(now.iso8601), SQLValue(job.state.isFinal ? now.iso8601 : nil), .text(row.id)])
        switch change.cause {
        case .enqueued:
            try ctx.publishAction(.voiceQueued, VoiceQueued(jobId: row.id, profileId: row.profileId), userID: row.userId, in: db)
        case .progress:
            try ctx.publishAction(.voiceProgress, VoiceProgress(jobId: row.id, progress: progress), userID: row.userId, in: db)
        case .retrying, .postponed, .lost, .released:
            try ctx.publishAction(.voiceProgress, VoiceProgress(jobId: row.id, progress: 0, status: "queued", error: job.error),
                                  userID: row.userId, in: db)
        case .completed:
            let audio = row.audioBlobId.map { "/api/blobs/\($0)" } ?? ""
            try ctx.publishAction(.voiceCompleted, VoiceCompleted(jobId: row.id, audioUrl: audio), userID: row.userId, in: db)
        case .failed, .timeout, .cancelled:
            try ctx.publishAction(.voiceFailed, VoiceFailed(jobId: row.id, error: job.error ?? "The job was \(job.state.rawValue)."),
                                  userID: row.userId, in: db)
        case .leased:
            break
        }
    }

    /// Requests stored before they were kernel jobs (an upgrade from a version with a queue of
    /// the plugin's own) and not finished: on the kernel's queue now.
    func enqueueStored() throws {
        let waiting = try ctx.db.query(VoiceJobRow.self,
            "SELECT \(VoiceJobRow.columns) FROM voice_jobs WHERE job_id IS NULL AND status IN ('queued', 'processing')")
        for row in waiting {
            try ctx.db.transaction { tx in
                var options = options(for: row.userId)
                options.maxActivePerOwner = nil
                let queued = try ctx.jobs.enqueue(Synthesis(voiceJobId: row.id), options: options, in: tx)
                try tx.exec("UPDATE voice_jobs SET job_id = ?, status = 'queued' WHERE id = ?", [.text(queued.id), .text(row.id)])
            }
        }
        if !waiting.isEmpty { ctx.log.info("\(waiting.count) stored synthesis request(s) moved onto the kernel's job queue") }
    }
}
