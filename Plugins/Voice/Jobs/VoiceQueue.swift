import Foundation
import Son1kContracts
import Son1kPluginKit

/// One stored synthesis job.
struct VoiceJobRow: Decodable, Sendable {
    static let columns = """
        id, user_id, profile_id, status, engine, request, attempts, max_attempts, requeues, available_at, lease_id, progress, error, \
        audio_blob_id, audio_size, content_type, output, created_at, updated_at, finished_at
        """
    var id: String
    var userId: String
    var profileId: String
    var status: String
    var engine: String
    var request: String
    var attempts: Int
    var maxAttempts: Int
    var requeues: Int
    var availableAt: Int64
    var leaseId: String?
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

    var view: VoiceJobView {
        get throws {
            let job = try self.job
            return VoiceJobView(
                id: id, status: VoiceJobView.Status(rawValue: status) ?? .queued, progress: (progress * 1000).rounded() / 1000,
                profileId: profileId, engine: engine, fidelity: SynthesisJob.fidelity(of: engine), text: job.text, language: job.language,
                emotion: job.emotion, intensity: job.intensity, speed: job.speed, format: job.format, attempts: attempts,
                maxAttempts: maxAttempts, error: error, audioUrl: audioBlobId.map { "/api/blobs/\($0)" },
                audio: audioBlobId.map { .init(blobId: $0, size: audioSize ?? 0, contentType: contentType ?? "audio/wav") },
                output: try output.map { try JSONValueDecoder.decode(SynthesisOutput.self, from: JSONValue.parse(Array($0.utf8))) },
                createdAt: createdAt, updatedAt: updatedAt, finishedAt: finishedAt)
        }
    }
}

/// The synthesis queue, with the generation queue's semantics: attempts with exponential
/// backoff, a time limit per attempt, postponement without spending an attempt when a
/// provider account is the problem, and `voice.*` actions for the owner's WebSocket.
struct VoiceQueue {
    let ctx: Context<VoicePlugin.Config>
    var nowMs: Int64 { ctx.now.epochMs }
    var stamp: String { ctx.now.iso8601 }

    func create(_ job: SynthesisJob, for user: String) throws -> VoiceJobRow {
        let id = "vjob_" + Crypto.randomToken(12)
        let request = String(decoding: try JSONEncoder().encode(job), as: UTF8.self)
        try ctx.db.transaction { tx in
            try tx.exec("""
                INSERT INTO voice_jobs (id, user_id, profile_id, status, engine, request, max_attempts, available_at, created_ms, created_at, updated_at)
                VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)
                """, [.text(id), .text(user), .text(job.profileId), .text(job.engine), .text(request), .int(Int64(ctx.config.maxAttempts)),
                      .int(nowMs), .int(nowMs), .text(stamp), .text(stamp)])
            try ctx.publishAction(.voiceQueued, VoiceQueued(jobId: id, profileId: job.profileId), userID: user, in: tx)
        }
        return try get(id)!
    }

    func get(_ id: String, in db: Database? = nil) throws -> VoiceJobRow? {
        try (db ?? ctx.db).queryOne(VoiceJobRow.self, "SELECT \(VoiceJobRow.columns) FROM voice_jobs WHERE id = ?", [.text(id)])
    }

    func visible(_ id: String, to user: String) throws -> VoiceJobRow {
        guard let row = try get(id), row.userId == user else { throw PluginError.notFound("You have no voice job \(id).", code: "job_not_found") }
        return row
    }

    /// The oldest due job one of `engines` can run, now this worker's.
    func lease(engines: [String]) throws -> (row: VoiceJobRow, lease: String)? {
        let marks = engines.map { _ in "?" }.joined(separator: ", ")
        return try ctx.db.transaction { tx in
            guard let row = try tx.queryOne(VoiceJobRow.self, """
                SELECT \(VoiceJobRow.columns) FROM voice_jobs WHERE status = 'queued' AND available_at <= ? AND engine IN (\(marks))
                ORDER BY available_at, created_at LIMIT 1
                """, [.int(nowMs)] + engines.map { .text($0) }) else { return nil }
            let lease = Crypto.randomToken(12)
            try tx.exec("""
                UPDATE voice_jobs SET status = 'processing', attempts = attempts + 1, lease_id = ?, leased_at = ?, progress = 0, updated_at = ?
                WHERE id = ? AND status = 'queued'
                """, [.text(lease), .int(nowMs), .text(stamp), .text(row.id)])
            return (try get(row.id, in: tx)!, lease)
        }
    }

    func progress(_ row: VoiceJobRow, lease: String, _ fraction: Double) throws {
        try ctx.db.transaction { tx in
            guard try tx.exec("UPDATE voice_jobs SET progress = ?, updated_at = ? WHERE id = ? AND lease_id = ? AND status = 'processing'",
                              [.double(fraction), .text(stamp), .text(row.id), .text(lease)]).changes == 1 else { return }
            try ctx.publishAction(.voiceProgress, VoiceProgress(jobId: row.id, progress: fraction), userID: row.userId, in: tx)
        }
    }

    func complete(_ row: VoiceJobRow, lease: String, audio: [UInt8], contentType: String, output: SynthesisOutput) throws {
        let blob = try ctx.blobs.put(audio, contentType: contentType, ownerID: row.userId, isPublic: false)
        let done = try ctx.db.transaction { tx -> Bool in
            guard try tx.exec("""
                UPDATE voice_jobs SET status = 'completed', progress = 1, lease_id = NULL, audio_blob_id = ?, audio_size = ?, content_type = ?,
                    output = ?, error = NULL, finished_at = ?, updated_at = ?
                WHERE id = ? AND lease_id = ? AND status = 'processing'
                """, [.text(blob.id), .int(Int64(blob.size)), .text(contentType), .text(try JSONValueEncoder.encode(output).jsonString), .text(stamp), .text(stamp),
                      .text(row.id), .text(lease)]).changes == 1 else { return false }
            try ctx.publishAction(.voiceCompleted, VoiceCompleted(jobId: row.id, audioUrl: "/api/blobs/\(blob.id)"),
                                  userID: row.userId, in: tx)
            return true
        }
        if !done { try? ctx.blobs.delete(blob.id) }
    }

    /// A failed attempt: retried after `retry_base_ms × 2^(attempt-1)` while attempts remain
    /// and it may help, otherwise failed for good.
    func fail(_ row: VoiceJobRow, lease: String, error: String, retryable: Bool) throws {
        try ctx.db.transaction { tx in
            guard let current = try get(row.id, in: tx), current.leaseId == lease, current.status == "processing" else { return }
            if retryable && current.attempts < current.maxAttempts {
                let delay = Int64(ctx.config.retryBaseMs) << Int64(max(0, current.attempts - 1))
                try requeue(current, error: error, at: nowMs + delay, in: tx)
            } else {
                try finish(current, error: error, in: tx)
            }
        }
    }

    /// Back to the queue without spending an attempt (no provider account free), at most
    /// `max_requeues` times.
    func postpone(_ row: VoiceJobRow, lease: String, reason: String, afterSeconds: Double) throws {
        try ctx.db.transaction { tx in
            guard let current = try get(row.id, in: tx), current.leaseId == lease, current.status == "processing" else { return }
            if current.requeues >= ctx.config.maxRequeues {
                try finish(current, error: "\(reason) (given up after \(current.requeues) postponements)", in: tx)
            } else {
                try tx.exec("UPDATE voice_jobs SET attempts = attempts - 1, requeues = requeues + 1 WHERE id = ?", [.text(row.id)])
                try requeue(current, error: reason, at: nowMs + Int64(max(0, afterSeconds) * 1000), in: tx)
            }
        }
    }

    /// Attempts past `timeout_s` (a worker that died with its process) fail or go back.
    @discardableResult
    func reap() throws -> Int {
        let overdue = try ctx.db.query(VoiceJobRow.self, "SELECT \(VoiceJobRow.columns) FROM voice_jobs WHERE status = 'processing' AND leased_at < ?",
                                       [.int(nowMs - Int64(ctx.config.timeoutS) * 1000)])
        for row in overdue {
            try fail(row, lease: row.leaseId ?? "", error: "The attempt ran longer than \(ctx.config.timeoutS) s.", retryable: true)
        }
        return overdue.count
    }

    private func requeue(_ row: VoiceJobRow, error: String, at: Int64, in tx: Database) throws {
        try tx.exec("UPDATE voice_jobs SET status = 'queued', lease_id = NULL, available_at = ?, error = ?, progress = 0, updated_at = ? WHERE id = ?",
                    [.int(at), .text(String(error.prefix(2000))), .text(stamp), .text(row.id)])
        try ctx.publishAction(.voiceProgress, VoiceProgress(jobId: row.id, progress: 0, status: "queued", error: error),
                              userID: row.userId, in: tx)
    }

    private func finish(_ row: VoiceJobRow, error: String, in tx: Database) throws {
        try tx.exec("UPDATE voice_jobs SET status = 'failed', lease_id = NULL, error = ?, finished_at = ?, updated_at = ? WHERE id = ?",
                    [.text(String(error.prefix(2000))), .text(stamp), .text(stamp), .text(row.id)])
        try ctx.publishAction(.voiceFailed, VoiceFailed(jobId: row.id, error: error), userID: row.userId, in: tx)
    }
}
