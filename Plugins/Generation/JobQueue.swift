import Foundation
import Son1kContracts
import Son1kMusicEngine
import Son1kPluginKit

/// The durable job queue, in the plugin's tables. Every transition is one conditional
/// UPDATE (`… WHERE id = ? AND status = 'queued'`, `… AND lease_id = ?`), so two workers
/// can race for a job, or a stale worker can report on one it lost, and exactly one write
/// wins. Each transition publishes its action in the same transaction.
struct JobQueue {
    typealias Ctx = Context<GenerationPlugin.Config>
    let ctx: Ctx

    private var nowMs: Int64 { Clock.ms(ctx.now) }

    // MARK: Users

    /// Inserts a job after the `generation.before_create` hook let it through.
    func create(_ job: EngineJob, for userID: String) throws -> JobRow {
        let id = "gen_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
        return try ctx.db.transaction { tx in
            let active = try tx.query("SELECT COUNT(*) AS n FROM generation_jobs WHERE user_id = ? AND status IN ('queued', 'assigned', 'processing')",
                                      [.text(userID)]).first?["n"].int ?? 0
            guard active < ctx.config.maxActivePerUser else {
                throw PluginError(status: 429, code: "too_many_active_generations",
                                  detail: "You have \(active) generations queued or running; wait for one to finish (the limit is \(ctx.config.maxActivePerUser)).",
                                  headers: ["Retry-After": "10"])
            }
            let hooked = try ctx.publishHook(.generationBeforeCreate, job.newGeneration(String(id), by: userID), userID: userID, in: tx)
            let priority = min(100, max(-100, hooked.priority))
            let now = nowMs, iso = Clock.iso(now)
            try tx.exec("""
                INSERT INTO generation_jobs (id, user_id, status, priority, engine, request, attempts, max_attempts, available_at,
                    progress, progress_published, created_ms, created_at, updated_at)
                VALUES (?, ?, 'queued', ?, ?, ?, 0, ?, ?, 0, 0, ?, ?, ?)
                """, [.text(String(id)), .text(userID), .int(Int64(priority)), .text(ctx.config.defaultEngine),
                      .text(String(decoding: try JSONEncoder().encode(job), as: UTF8.self)), .int(Int64(ctx.config.maxAttempts)),
                      .int(now), .int(now), .text(iso), .text(iso)])
            let row = try get(String(id), in: tx)!
            try ctx.publishAction(.generationQueued, GenerationQueued(generationId: row.id, userId: userID, status: row.status.rawValue,
                                                                      priority: row.priority, engine: row.engine, quality: SongQuality(job.quality),
                                                                      durationS: job.durationS, createdAt: row.createdAt.iso8601), userID: userID, in: tx)
            return row
        }
    }

    func get(_ id: String, in db: Database? = nil) throws -> JobRow? {
        try (db ?? ctx.db).queryOne(JobRow.self, "SELECT \(JobRow.columns) FROM generation_jobs WHERE id = ?", [.text(id)])
    }

    /// The job when `principal` may see it; otherwise 404, so other users' ids reveal nothing.
    func visible(_ id: String, to principal: Principal) throws -> JobRow {
        guard let row = try get(id), principal.mayActFor(row.userId) else {
            throw PluginError.notFound("No generation \(id) of yours.", code: "generation_not_found")
        }
        return row
    }

    /// A page of a user's jobs, newest first; the cursor is the last item's position.
    func list(for userID: String, status: JobStatus?, limit: Int, cursor: String?) throws -> (rows: [JobRow], next: String?) {
        var sql = "SELECT \(JobRow.columns) FROM generation_jobs WHERE user_id = ?"
        var params: [SQLValue] = [.text(userID)]
        if let status { sql += " AND status = ?"; params.append(.text(status.rawValue)) }
        if let cursor {
            let parts = cursor.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, let ms = Int64(parts[0]) else { throw PluginError.invalid("cursor", "is not a cursor this endpoint returned.") }
            sql += " AND (created_ms < ? OR (created_ms = ? AND id < ?))"
            params += [.int(ms), .int(ms), .text(String(parts[1]))]
        }
        sql += " ORDER BY created_ms DESC, id DESC LIMIT ?"
        params.append(.int(Int64(limit + 1)))
        let rows = try ctx.db.query(JobRow.self, sql, params)
        let page = Array(rows.prefix(limit))
        return (page, rows.count > limit ? page.last.map { "\($0.createdMs)_\($0.id)" } : nil)
    }

    /// Cancels a job that has not finished. A worker holding it learns so at its next report.
    func cancel(_ id: String, by principal: Principal) throws -> JobRow {
        let row = try visible(id, to: principal)
        return try ctx.db.transaction { tx in
            let now = nowMs
            let r = try tx.exec("""
                UPDATE generation_jobs SET status = 'cancelled', lease_id = NULL, finished_at = ?, updated_at = ?
                WHERE id = ? AND status IN ('queued', 'assigned', 'processing')
                """, [.text(Clock.iso(now)), .text(Clock.iso(now)), .text(id)])
            guard r.changes == 1 else {
                let current = try get(id, in: tx)?.status ?? row.status
                throw PluginError.conflict("The generation is already \(current.rawValue).", code: "not_cancellable")
            }
            try ctx.publishAction(.generationCancelled, GenerationEnded(generationId: id, userId: row.userId), userID: row.userId, in: tx)
            return try get(id, in: tx)!
        }
    }

    /// Deletes a finished job and its audio, publishing `generation.deleted` (with the size
    /// freed) so quotas can give the storage back. An unfinished job must be cancelled first.
    func delete(_ id: String, by principal: Principal) throws {
        let row = try visible(id, to: principal)
        guard !row.status.isActive else {
            throw PluginError.conflict("The generation is \(row.status.rawValue); cancel it before deleting it.", code: "still_active")
        }
        try ctx.db.transaction { tx in
            guard try tx.exec("DELETE FROM generation_jobs WHERE id = ?", [.text(id)]).changes == 1 else { return }
            try ctx.publishAction(.generationDeleted, GenerationDeleted(generationId: id, userId: row.userId, size: Int64(row.audioSize ?? 0),
                                                                       audioBlobId: row.audioBlobId), userID: row.userId, in: tx)
        }
        if let blob = row.audioBlobId { try? ctx.blobs.delete(blob) }
    }

    // MARK: Workers

    /// Leases the most urgent job this worker can run, or returns nil. Safe to call from
    /// any number of workers at once: the conditional UPDATE gives each job to one of them.
    func lease(worker: WorkerIdentity, engines: [String]) throws -> JobLease? {
        guard !engines.isEmpty else { return nil }
        let now = nowMs
        let placeholders = engines.map { _ in "?" }.joined(separator: ", ")
        let candidates = try ctx.db.query("""
            SELECT id FROM generation_jobs WHERE status = 'queued' AND available_at <= ? AND engine IN (\(placeholders))
            ORDER BY priority DESC, available_at, created_ms, id LIMIT 8
            """, [.int(now)] + engines.map { .text($0) })
        for candidate in candidates {
            guard let id = candidate["id"].string else { continue }
            let leaseID = "lse_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let leased: JobRow? = try ctx.db.transaction { tx in
                let r = try tx.exec("""
                    UPDATE generation_jobs SET status = 'assigned', worker_id = ?, worker_principal = ?, lease_id = ?,
                        attempts = attempts + 1, leased_at = ?, progress = 0, progress_published = 0, updated_at = ?
                    WHERE id = ? AND status = 'queued'
                    """, [.text(worker.id), .text(worker.principal), .text(leaseID), .int(now), .text(Clock.iso(now)), .text(id)])
                guard r.changes == 1 else { return nil }
                try touch(worker, engines: engines, currentJob: id, in: tx)
                let row = try get(id, in: tx)!
                try publishProgress(row, in: tx)
                return row
            }
            if let row = leased {
                return JobLease(id: row.id, leaseId: leaseID, engine: row.engine, attempt: row.attempts, job: try row.job,
                             timeoutS: ctx.config.timeoutS, heartbeatIntervalS: ctx.config.heartbeatIntervalS)
            }
        }
        return nil
    }

    /// Records that a worker is alive (and which engines it offers). Of the jobs it says it
    /// holds, returns those it no longer does (cancelled, timed out, given to another worker),
    /// so it can stop working on them.
    func heartbeat(_ worker: WorkerIdentity, engines: [String]?, holding: [String]) throws -> [String] {
        try ctx.db.transaction { tx in
            try touch(worker, engines: engines, currentJob: nil, keepJob: true, in: tx)
            return try holding.filter { id in
                guard let row = try get(id, in: tx) else { return true }
                return !(JobStatus.leased.contains(row.status) && row.workerPrincipal == worker.principal && row.workerId == worker.id)
            }
        }
    }

    /// A progress report: moves the job to `processing` and publishes `generation.progress`
    /// at most once per tenth of the way. Throws 409 when the lease is no longer valid
    /// (`job_cancelled`, `lease_lost`) so the worker stops.
    func progress(_ id: String, lease: String, fraction: Double, worker: WorkerIdentity) throws -> JobRow {
        let f = min(1, max(0, fraction.isFinite ? fraction : 0))
        return try ctx.db.transaction { tx in
            let now = nowMs
            guard let before = try get(id, in: tx), before.leaseId == lease, JobStatus.leased.contains(before.status) else {
                throw try leaseError(id, in: tx)
            }
            try tx.exec("""
                UPDATE generation_jobs SET status = 'processing', progress = ?, started_at = COALESCE(started_at, ?), updated_at = ?
                WHERE id = ? AND lease_id = ?
                """, [.double(f), .text(Clock.iso(now)), .text(Clock.iso(now)), .text(id), .text(lease)])
            try touch(worker, engines: nil, currentJob: id, in: tx)
            var row = try get(id, in: tx)!
            // Throttled: the first report (now processing) and then each further tenth.
            if before.status == .assigned || row.progress - row.progressPublished >= 0.1 {
                try tx.exec("UPDATE generation_jobs SET progress_published = ? WHERE id = ?", [.double(row.progress), .text(id)])
                row.progressPublished = row.progress
                try publishProgress(row, in: tx)
            }
            return row
        }
    }

    /// Stores the audio and completes the job, once: a worker whose lease was lost gets 409
    /// and its upload is discarded.
    func complete(_ id: String, lease: String, audio: [UInt8], contentType: String, details: JSONValue, worker: WorkerIdentity) throws -> JobRow {
        guard let current = try get(id), current.leaseId == lease, JobStatus.leased.contains(current.status) else {
            throw try leaseError(id, in: ctx.db)
        }
        let blob = try ctx.blobs.put(audio, contentType: contentType, ownerID: current.userId)
        do {
            return try ctx.db.transaction { tx in
                let now = nowMs
                var result = details
                if result.object == nil { result = [:] }
                result["engine"] = .string(current.engine)
                result["seed"] = .number(Double(try current.job.seed))
                let r = try tx.exec("""
                    UPDATE generation_jobs SET status = 'completed', progress = 1, progress_published = 1, lease_id = NULL, result = ?,
                        audio_blob_id = ?, audio_size = ?, audio_content_type = ?, finished_at = ?, updated_at = ?,
                        started_at = COALESCE(started_at, ?)
                    WHERE id = ? AND lease_id = ? AND status IN ('assigned', 'processing')
                    """, [.text(result.jsonString), .text(blob.id), .int(Int64(blob.size)), .text(contentType),
                          .text(Clock.iso(now)), .text(Clock.iso(now)), .text(Clock.iso(now)), .text(id), .text(lease)])
                guard r.changes == 1 else { throw try leaseError(id, in: tx) }
                try tx.exec("UPDATE generation_workers SET completed = completed + 1, current_job = NULL WHERE principal = ? AND id = ?",
                            [.text(worker.principal), .text(worker.id)])
                let row = try get(id, in: tx)!
                let job = try row.job
                try ctx.publishAction(.generationCompleted, GenerationCompleted(
                    generationId: id, userId: row.userId, quality: SongQuality(job.quality), durationS: job.durationS,
                    genre: result["genre"].string ?? job.genre, engine: row.engine, seed: job.seed, attempts: row.attempts,
                    audioBlobId: blob.id, size: Int64(blob.size), contentType: contentType), userID: row.userId, in: tx)
                return row
            }
        } catch {
            try? ctx.blobs.delete(blob.id)
            throw error
        }
    }

    /// A failed attempt: back to the queue after a backoff (`retry_base_ms × 2^(attempt-1)`)
    /// while attempts remain and the failure is retryable, otherwise `failed` for good.
    func fail(_ id: String, lease: String, error message: String, retryable: Bool, worker: WorkerIdentity) throws -> JobRow {
        try ctx.db.transaction { tx in
            guard let row = try get(id, in: tx), row.leaseId == lease, JobStatus.leased.contains(row.status) else {
                throw try leaseError(id, in: tx)
            }
            let text = String(message.prefix(2000))
            try tx.exec("UPDATE generation_workers SET failed = failed + 1, current_job = NULL WHERE principal = ? AND id = ?",
                        [.text(worker.principal), .text(worker.id)])
            if retryable && row.attempts < row.maxAttempts {
                let delay = Int64(ctx.config.retryBaseMs) << Int64(max(0, row.attempts - 1))
                try requeue(row, error: text, availableAt: nowMs + delay, in: tx)
            } else {
                try finish(row, as: .failed, error: text, in: tx)
            }
            return try get(id, in: tx)!
        }
    }

    /// An attempt that never reached the engine's real work (every provider account resting,
    /// the leased one rate limited): back to the queue after `afterSeconds` without counting
    /// an attempt, at most `max_requeues` times, then failed for good.
    func postpone(_ id: String, lease: String, reason: String, afterSeconds: Double, worker: WorkerIdentity) throws -> JobRow {
        try ctx.db.transaction { tx in
            guard let row = try get(id, in: tx), row.leaseId == lease, JobStatus.leased.contains(row.status) else {
                throw try leaseError(id, in: tx)
            }
            let postponed = try tx.query("SELECT requeues FROM generation_jobs WHERE id = ?", [.text(id)]).first?["requeues"].int ?? 0
            try tx.exec("UPDATE generation_workers SET current_job = NULL WHERE principal = ? AND id = ?", [.text(worker.principal), .text(worker.id)])
            let text = String(reason.prefix(2000))
            if postponed >= ctx.config.maxRequeues {
                try finish(row, as: .failed, error: "\(text) (given up after \(postponed) postponements)", in: tx)
            } else {
                try tx.exec("UPDATE generation_jobs SET attempts = attempts - 1, requeues = requeues + 1 WHERE id = ?", [.text(id)])
                try requeue(row, error: text, availableAt: nowMs + Int64(max(0, afterSeconds) * 1000), in: tx)
            }
            return try get(id, in: tx)!
        }
    }

    /// Gives a job back untouched (a built-in worker shutting down mid-render): the attempt
    /// does not count.
    func release(_ id: String, lease: String) throws {
        try ctx.db.exec("""
            UPDATE generation_jobs SET status = 'queued', lease_id = NULL, worker_id = NULL, worker_principal = NULL,
                attempts = attempts - 1, progress = 0, updated_at = ?
            WHERE id = ? AND lease_id = ? AND status IN ('assigned', 'processing')
            """, [.text(Clock.iso(nowMs)), .text(id), .text(lease)])
    }

    // MARK: Maintenance

    /// Times out jobs running longer than `timeout_s`, and puts back in the queue the jobs of
    /// workers silent for `heartbeat_timeout_s` (failing those out of attempts). Returns how
    /// many jobs went back to the queue. Idempotent, so several instances may run it.
    @discardableResult
    func reap() throws -> Int {
        let now = nowMs
        let overdue = try ctx.db.query(JobRow.self, "SELECT \(JobRow.columns) FROM generation_jobs WHERE status IN ('assigned', 'processing') AND leased_at < ?",
                                       [.int(now - Int64(ctx.config.timeoutS) * 1000)])
        for row in overdue {
            try ctx.db.transaction { tx in
                guard let current = try get(row.id, in: tx), current.leaseId == row.leaseId, JobStatus.leased.contains(current.status) else { return }
                try finish(current, as: .timeout, error: "The job ran longer than \(ctx.config.timeoutS) s.", in: tx)
            }
        }
        let lost = try ctx.db.query(JobRow.self, """
            SELECT \(JobRow.columns.split(separator: ",").map { "j." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", "))
            FROM generation_jobs j LEFT JOIN generation_workers w ON w.principal = j.worker_principal AND w.id = j.worker_id
            WHERE j.status IN ('assigned', 'processing') AND (w.last_seen_ms IS NULL OR w.last_seen_ms < ?)
            """, [.int(now - Int64(ctx.config.heartbeatTimeoutS) * 1000)])
        var requeued = 0
        for row in lost {
            try ctx.db.transaction { tx in
                guard let current = try get(row.id, in: tx), current.leaseId == row.leaseId, JobStatus.leased.contains(current.status) else { return }
                let message = "Worker \(current.workerId ?? "?") stopped sending heartbeats."
                if current.attempts < current.maxAttempts {
                    try requeue(current, error: message, availableAt: nowMs, in: tx)
                    requeued += 1
                } else {
                    try finish(current, as: .failed, error: message, in: tx)
                }
            }
        }
        return requeued
    }

    /// Workers for `GET /api/admin/workers`, most recently seen first.
    func workers() throws -> [WorkerView] {
        struct Row: Decodable {
            var principal, id, kind, engines, firstSeenAt: String
            var lastSeenMs: Int64
            var currentJob: String?
            var completed, failed: Int
        }
        let now = nowMs
        return try ctx.db.query(Row.self, "SELECT principal, id, kind, engines, last_seen_ms, first_seen_at, current_job, completed, failed FROM generation_workers ORDER BY last_seen_ms DESC LIMIT 500")
            .map { w in
                WorkerView(id: w.id, kind: w.kind, principal: w.principal,
                           engines: try JSONValueDecoder.decode([String].self, from: JSONValue.parse(Array(w.engines.utf8))),
                           lastSeenAt: Date(epochMs: w.lastSeenMs), firstSeenAt: Date(iso8601: w.firstSeenAt) ?? Date(epochMs: w.lastSeenMs),
                           alive: now - w.lastSeenMs < Int64(ctx.config.heartbeatTimeoutS) * 1000, currentJob: w.currentJob,
                           completed: w.completed, failed: w.failed)
            }
    }

    // MARK: Helpers

    private func requeue(_ row: JobRow, error: String, availableAt: Int64, in tx: Database) throws {
        try tx.exec("""
            UPDATE generation_jobs SET status = 'queued', lease_id = NULL, available_at = ?, error = ?, progress = 0,
                progress_published = 0, updated_at = ?
            WHERE id = ?
            """, [.int(availableAt), .text(error), .text(Clock.iso(nowMs)), .text(row.id)])
        try publishProgress(try get(row.id, in: tx)!, in: tx)
    }

    private func finish(_ row: JobRow, as status: JobStatus, error: String, in tx: Database) throws {
        let now = nowMs
        try tx.exec("UPDATE generation_jobs SET status = ?, lease_id = NULL, error = ?, finished_at = ?, updated_at = ? WHERE id = ?",
                    [.text(status.rawValue), .text(error), .text(Clock.iso(now)), .text(Clock.iso(now)), .text(row.id)])
        let topic: Topic<GenerationEnded> = status == .timeout ? .generationTimedOut : .generationFailed
        try ctx.publishAction(topic, GenerationEnded(generationId: row.id, userId: row.userId, error: error, attempts: row.attempts),
                              userID: row.userId, in: tx)
    }

    private func publishProgress(_ row: JobRow, in tx: Database) throws {
        let queued = row.status == .queued
        let progress = GenerationProgress(generationId: row.id, status: row.status.rawValue, progress: (row.progress * 1000).rounded() / 1000,
                                          attempt: row.attempts, nextAttemptAt: queued ? Clock.iso(row.availableAt) : nil,
                                          error: queued ? row.error : nil)
        try ctx.publishAction(.generationProgress, progress, userID: row.userId, in: tx)
    }

    private func touch(_ worker: WorkerIdentity, engines: [String]?, currentJob: String?, keepJob: Bool = false, in tx: Database) throws {
        let now = nowMs
        let enginesJSON = engines.map { JSONValue.array($0.map { .string($0) }).jsonString }
        try tx.exec("""
            INSERT INTO generation_workers (principal, id, kind, engines, last_seen_ms, first_seen_at, current_job, completed, failed)
            VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)
            ON CONFLICT (principal, id) DO UPDATE SET last_seen_ms = excluded.last_seen_ms,
                engines = COALESCE(?, generation_workers.engines),
                current_job = CASE WHEN ? THEN generation_workers.current_job ELSE excluded.current_job END
            """, [.text(worker.principal), .text(worker.id), .text(worker.kind), .text(enginesJSON ?? "[]"), .int(now),
                  .text(Clock.iso(now)), SQLValue(currentJob), SQLValue(enginesJSON), .bool(keepJob)])
    }

    private func leaseError(_ id: String, in db: Database) throws -> PluginError {
        guard let row = try get(id, in: db) else { return .notFound("No generation \(id).", code: "generation_not_found") }
        if row.status == .cancelled { return .conflict("The generation was cancelled.", code: "job_cancelled") }
        return .conflict("This worker no longer holds the generation (it is \(row.status.rawValue)).", code: "lease_lost")
    }
}

/// Who is working: the worker's chosen id within the credentials it authenticated with.
struct WorkerIdentity: Sendable {
    var principal: String
    var id: String
    var kind: String
}
