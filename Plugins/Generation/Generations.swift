import Foundation
import Son1kContracts
import Son1kMusicEngine
import Son1kPluginKit

/// Generations: a row of `generation_jobs` (the request, the audio, a status in the plugin's
/// own words) and a ``RenderJob`` on the kernel's job queue, made in one transaction. The
/// kernel leases, retries, postpones and times out the job; every change it makes reaches
/// ``apply(_:)`` inside its transaction, which keeps the row's status in step
/// (`queued → assigned → processing → completed | failed | timeout | cancelled`) and publishes
/// the `generation.*` actions.
struct Generations {
    typealias Ctx = Context<GenerationPlugin.Config>
    let ctx: Ctx

    private var nowMs: Int64 { Clock.ms(ctx.now) }

    // MARK: Users

    /// Generations as their owner (or an admin) sees them, with signed audio URLs, one call
    /// to the kernel for the lot.
    func views(_ rows: [JobRow], isAdmin: Bool) throws -> [GenerationView] {
        let media = try ctx.blobs.urls(rows.compactMap(\.audioBlobId))
        return try rows.map { try $0.view(isAdmin: isAdmin, media: media) }
    }

    func view(_ row: JobRow, isAdmin: Bool) throws -> GenerationView { try views([row], isAdmin: isAdmin)[0] }

    /// Inserts a generation after the `generation.before_create` hook let it through, with its
    /// job on the queue of the deployment's engine.
    func create(_ request: JobRequest.Validated, for userID: String) throws -> JobRow {
        let job = request.job
        let mapped = request.mapped.isEmpty ? nil : String(decoding: try JSONEncoder().encode(request.mapped), as: UTF8.self)
        let id = "gen_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
        // READ COMMITTED behind the user's row lock: a second submission of the same user waits
        // here until the first commits, and its count then reads the first's row, so the limit
        // is exact on every backend (SQLite's one writer orders them anyway). Serializable
        // ordered them by aborting all but one and running the rest again. The quota hook
        // takes its slot with a conditional upsert, exact at either level.
        return try ctx.db.transaction(isolation: .readCommitted) { tx in
            try tx.exec("""
                INSERT INTO generation_users (user_id, submitted) VALUES (?, 1)
                ON CONFLICT (user_id) DO UPDATE SET submitted = generation_users.submitted + 1
                """, [.text(userID)])
            // Counted in this transaction, whose status column every change keeps in step: exact.
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
            let engine = ctx.config.defaultEngine
            // The job first, so the row is written once, with its job id; and the row is built
            // here rather than read back: this runs while the writer is held.
            let queued = try ctx.jobs.enqueue(RenderJob(generationId: String(id)), options: options(engine: engine, owner: userID, priority: priority), in: tx)
            let row = JobRow(id: String(id), userId: userID, status: .queued, priority: priority, engine: engine,
                             request: String(decoding: try JSONEncoder().encode(job), as: UTF8.self), mapped: mapped, attempts: 0,
                             maxAttempts: ctx.config.maxAttempts, availableAt: now, progress: 0, progressPublished: 0,
                             createdMs: now, createdAt: Date(epochMs: now), updatedAt: Date(epochMs: now), jobId: queued.id)
            try tx.exec("""
                INSERT INTO generation_jobs (id, user_id, status, priority, engine, request, mapped, attempts, max_attempts, available_at,
                    progress, progress_published, created_ms, created_at, updated_at, job_id)
                VALUES (?, ?, 'queued', ?, ?, ?, ?, 0, ?, ?, 0, 0, ?, ?, ?, ?)
                """, [.text(row.id), .text(userID), .int(Int64(priority)), .text(engine), .text(row.request), SQLValue(mapped), .int(Int64(row.maxAttempts)),
                      .int(now), .int(now), .text(iso), .text(iso), .text(queued.id)])
            try ctx.publishAction(.generationQueued, GenerationQueued(generationId: row.id, userId: userID, status: row.status.rawValue,
                                                                      priority: row.priority, engine: row.engine, quality: SongQuality(job.quality),
                                                                      durationS: job.durationS, createdAt: row.createdAt.iso8601), userID: userID, in: tx)
            return row
        }
    }

    /// How the kernel runs a render: the plugin's attempts, backoff, time limits and postponements.
    func options(engine: String, owner: String, priority: Int) -> JobOptions {
        JobOptions(queue: engine, ownerID: owner, priority: priority, maxAttempts: ctx.config.maxAttempts, timeout: Double(ctx.config.timeoutS),
                   heartbeatTimeout: Double(ctx.config.heartbeatTimeoutS), backoffBaseMs: ctx.config.retryBaseMs,
                   maxPostponements: ctx.config.maxRequeues)
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
        guard row.status.isActive, let jobID = row.jobId else {
            throw PluginError.conflict("The generation is already \(row.status.rawValue).", code: "not_cancellable")
        }
        do {
            try ctx.jobs.cancel(jobID)
        } catch let error as PluginError where error.code == "not_cancellable" {
            throw PluginError.conflict("The generation is already \(try get(id)?.status.rawValue ?? "finished").", code: "not_cancellable")
        }
        return try get(id)!
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

    // MARK: External workers

    /// The worker protocol's transactions are READ COMMITTED (on PostgreSQL): each one's
    /// decision is the kernel's conditional update of the job (`… AND lease_id = ?`), whose row
    /// lock also orders ``apply(_:)`` behind it, and the registry's writes are upserts and
    /// `n = n + 1`. At SERIALIZABLE a lease, reading the queue's newest rows, conflicted with
    /// every submission writing them.
    static let workerIsolation = Isolation.readCommitted

    /// Leases the most urgent job one of `engines` can run, or returns nil. Safe to call from
    /// any number of workers at once: the kernel gives each job to one of them.
    func lease(worker: WorkerIdentity, engines: [String]) throws -> JobLease? {
        let unknown = engines.filter { !GenerationPlugin.engineNames.contains($0) }
        guard unknown.isEmpty else { throw PluginError.invalid("engines", "names unknown engines: \(unknown.joined(separator: ", ")).") }
        return try ctx.db.transaction(isolation: Self.workerIsolation) { tx in
            // Only the columns the lease hands out: this runs while the writer is held.
            guard let job = try ctx.jobs.lease(queues: engines, worker: worker.name, limit: 1, in: tx).first,
                  let lease = job.leaseId,
                  let row = try tx.queryOne(Stored.self, "SELECT id, engine, request FROM generation_jobs WHERE id = ?",
                                            [.text(try job.args(as: RenderJob.self).generationId)]) else { return nil }
            try WorkerRegistry(ctx: ctx).touch(worker, engines: engines, currentJob: row.id, in: tx)
            return JobLease(id: row.id, leaseId: lease, engine: row.engine, attempt: job.attempt, job: try EngineJob(stored: row.request),
                            timeoutS: ctx.config.timeoutS, heartbeatIntervalS: ctx.config.heartbeatIntervalS)
        }
    }

    /// Records that a worker is alive (and which engines it offers), keeping the leases of the
    /// jobs it holds — those it names, or all it holds when it names none. Returns those of
    /// the named jobs it no longer holds (cancelled, timed out, given to another worker), so it
    /// can stop working on them.
    func heartbeat(_ worker: WorkerIdentity, engines: [String]?, holding: [String]) throws -> [String] {
        guard holding.count <= 1000 else { throw PluginError.invalid("job_ids", "may name at most 1000 jobs.") }
        return try ctx.db.transaction(isolation: Self.workerIsolation) { tx in
            try WorkerRegistry(ctx: ctx).touch(worker, engines: engines, currentJob: nil, keepJob: true, in: tx)
            let named = holding.isEmpty
                ? try tx.query(JobIDs.self, "SELECT id, job_id FROM generation_jobs WHERE worker_principal = ? AND worker_id = ? AND status IN ('assigned', 'processing')",
                               [.text(worker.principal), .text(worker.id)])
                : try tx.query(JobIDs.self, "SELECT id, job_id FROM generation_jobs WHERE id IN (\(holding.map { _ in "?" }.joined(separator: ", ")))",
                               holding.map { .text($0) })
            let lost = Set(try ctx.jobs.heartbeat(worker: worker.name, jobIDs: named.compactMap(\.jobId), in: tx))
            let known = Dictionary(named.map { ($0.id, $0.jobId) }, uniquingKeysWith: { a, _ in a })
            return holding.filter { id in known[id].flatMap { $0 }.map { lost.contains($0) } ?? true }
        }
    }

    /// A progress report (also a heartbeat). 409 `job_cancelled` or `lease_lost` tells the
    /// worker to stop.
    func progress(_ id: String, lease: String, fraction: Double, worker: WorkerIdentity) throws -> JobRow {
        try ctx.db.transaction(isolation: Self.workerIsolation) { tx in
            let jobID = try self.jobID(id, in: tx)
            try ctx.jobs.progress(jobID, leaseID: lease, fraction.isFinite ? fraction : 0, in: tx)
            try WorkerRegistry(ctx: ctx).touch(worker, engines: nil, currentJob: id, in: tx)
            return try get(id, in: tx)!
        }
    }

    /// Stores the audio and completes the job, once: a worker whose lease was lost gets 409
    /// and its upload is discarded.
    func complete(_ id: String, lease: String, audio: [UInt8], contentType: String, details: JSONValue, worker: WorkerIdentity?) throws -> JobRow {
        guard let current = try get(id), current.leaseId == lease, JobStatus.leased.contains(current.status), let jobID = current.jobId else {
            throw try leaseError(id)
        }
        let blob = try ctx.blobs.put(audio, contentType: contentType, ownerID: current.userId)
        do {
            return try ctx.db.transaction(isolation: Self.workerIsolation) { tx in
                var result = details
                if result.object == nil { result = [:] }
                result["engine"] = .string(current.engine)
                result["seed"] = .number(Double(try current.job.seed))
                try tx.exec("""
                    UPDATE generation_jobs SET result = ?, audio_blob_id = ?, audio_size = ?, audio_content_type = ? WHERE id = ?
                    """, [.text(result.jsonString), .text(blob.id), .int(Int64(blob.size)), .text(contentType), .text(id)])
                try ctx.jobs.complete(jobID, leaseID: lease, in: tx)
                if let worker { try WorkerRegistry(ctx: ctx).count(worker, completed: true, in: tx) }
                return try get(id, in: tx)!
            }
        } catch {
            try? ctx.blobs.delete(blob.id)
            throw error
        }
    }

    /// A failed attempt: the kernel retries it after its backoff while attempts remain and the
    /// failure is retryable, otherwise the job is `failed` for good.
    func fail(_ id: String, lease: String, error message: String, retryable: Bool, worker: WorkerIdentity) throws -> JobRow {
        try ctx.db.transaction(isolation: Self.workerIsolation) { tx in
            try ctx.jobs.fail(try jobID(id, in: tx), leaseID: lease, error: String(message.prefix(2000)), retryable: retryable, in: tx)
            try WorkerRegistry(ctx: ctx).count(worker, completed: false, in: tx)
            return try get(id, in: tx)!
        }
    }

    private func jobID(_ id: String, in tx: Database) throws -> String {
        guard let row = try get(id, in: tx) else { throw PluginError.notFound("No generation \(id).", code: "generation_not_found") }
        guard let jobID = row.jobId else { throw try leaseError(id) }
        return jobID
    }

    private func leaseError(_ id: String) throws -> PluginError {
        guard let row = try get(id) else { return .notFound("No generation \(id).", code: "generation_not_found") }
        if row.status == .cancelled { return .conflict("The generation was cancelled.", code: "job_cancelled") }
        return .conflict("This worker no longer holds the generation (it is \(row.status.rawValue)).", code: "lease_lost")
    }

    private struct JobIDs: Decodable {
        var id: String
        var jobId: String?
    }

    // MARK: The queue's changes

    /// A change of a render job, inside the transaction that made it: the row follows, and the
    /// owner (and tiers, the pool) hear of it.
    func apply(_ change: JobChange<RenderJob>) throws {
        // A new job's row is written by the transaction that enqueued it (``create(_:for:)``).
        if change.cause == .enqueued { return }
        let db = ctx.db
        // The few columns the change needs, not the whole row: this runs inside the writer's
        // transaction for every change of every job.
        guard let before = try db.queryOne(Mirror.self, "SELECT id, user_id, engine, status, progress_published, leased_at, worker_id, worker_principal FROM generation_jobs WHERE id = ?",
                                           [.text(change.args.generationId)]) else { return }
        let job = change.job
        let status: JobStatus = switch job.state {
        case .queued: .queued
        case .running: job.progress == nil ? .assigned : .processing
        case .completed: .completed
        case .failed: .failed
        case .timeout: .timeout
        case .cancelled: .cancelled
        }
        let holder = WorkerIdentity.parse(job.worker)
        let progress = status == .completed ? 1 : (status == .processing ? job.progress ?? 0 : 0)
        let now = Clock.iso(nowMs)
        try db.exec("""
            UPDATE generation_jobs SET status = ?, attempts = ?, available_at = ?, lease_id = ?, worker_id = ?, worker_principal = ?,
                leased_at = ?, progress = ?, progress_published = CASE WHEN ? THEN 0 ELSE progress_published END, error = ?, requeues = ?,
                started_at = CASE WHEN ? THEN COALESCE(started_at, ?) ELSE started_at END,
                finished_at = CASE WHEN ? THEN ? ELSE finished_at END, updated_at = ?
            WHERE id = ?
            """, [.text(status.rawValue), .int(Int64(job.attempt)), .int(job.runAt.epochMs), SQLValue(job.leaseId),
                  SQLValue(job.state == .running ? holder?.id : before.workerId), SQLValue(job.state == .running ? holder?.principal : before.workerPrincipal),
                  job.state != .running ? .null : .int(change.cause == .leased ? nowMs : before.leasedAt ?? nowMs), .double(progress), .bool(change.cause == .leased),
                  SQLValue(job.error), .int(Int64(job.postponements)),
                  .bool(status == .processing || status == .completed), .text(now), .bool(job.state.isFinal), .text(now), .text(now), .text(before.id)])
        let update = GenerationProgress(generationId: before.id, status: status.rawValue, progress: (progress * 1000).rounded() / 1000,
                                        attempt: job.attempt, nextAttemptAt: status == .queued ? job.runAt.iso8601 : nil,
                                        error: status == .queued ? job.error : nil)
        switch change.cause {
        case .enqueued:
            break
        case .leased, .retrying, .postponed, .lost, .released:
            try ctx.publishAction(.generationProgress, update, userID: before.userId, in: db)
        case .progress:
            // Throttled: the first report (now processing) and then each further tenth.
            if before.status == .assigned || progress - before.progressPublished >= 0.1 {
                try db.exec("UPDATE generation_jobs SET progress_published = ? WHERE id = ?", [.double(progress), .text(before.id)])
                try ctx.publishAction(.generationProgress, update, userID: before.userId, in: db)
            }
        case .completed:
            guard let song = try db.queryOne(Song.self, "SELECT request, result, audio_blob_id, audio_size, audio_content_type FROM generation_jobs WHERE id = ?",
                                             [.text(before.id)]) else { return }
            let request = try EngineJob(stored: song.request)
            let result = try song.result.map { try JSONValue.parse(Array($0.utf8)) } ?? [:]
            try ctx.publishAction(.generationCompleted, GenerationCompleted(
                generationId: before.id, userId: before.userId, quality: SongQuality(request.quality), durationS: request.durationS,
                genre: result["genre"].string ?? request.genre, engine: before.engine, seed: request.seed, attempts: job.attempt,
                audioBlobId: song.audioBlobId ?? "", size: Int64(song.audioSize ?? 0), contentType: song.audioContentType ?? "audio/wav"),
                userID: before.userId, in: db)
        case .failed, .timeout:
            let topic: Topic<GenerationEnded> = job.state == .timeout ? .generationTimedOut : .generationFailed
            try ctx.publishAction(topic, GenerationEnded(generationId: before.id, userId: before.userId, error: job.error, attempts: job.attempt),
                                  userID: before.userId, in: db)
        case .cancelled:
            try ctx.publishAction(.generationCancelled, GenerationEnded(generationId: before.id, userId: before.userId), userID: before.userId, in: db)
        }
    }

    /// What ``apply(_:)`` reads of a generation before changing it.
    private struct Mirror: Decodable {
        var id: String
        var userId: String
        var engine: String
        var status: JobStatus
        var progressPublished: Double
        var leasedAt: Int64?
        var workerId: String?
        var workerPrincipal: String?
    }

    /// What a lease hands out of a generation.
    private struct Stored: Decodable {
        var id: String
        var engine: String
        var request: String
    }

    /// What the `generation.completed` action tells of the song.
    private struct Song: Decodable {
        var request: String
        var result: String?
        var audioBlobId: String?
        var audioSize: Int?
        var audioContentType: String?
    }

    /// Generations stored before they were kernel jobs (an upgrade from the plugin's own queue)
    /// and not finished: on the kernel's queue now, as queued.
    func enqueueStored() throws {
        let waiting = try ctx.db.query(JobRow.self, "SELECT \(JobRow.columns) FROM generation_jobs WHERE job_id IS NULL AND status IN ('queued', 'assigned', 'processing')")
        for row in waiting {
            try ctx.db.transaction { tx in
                let queued = try ctx.jobs.enqueue(RenderJob(generationId: row.id), options: options(engine: row.engine, owner: row.userId, priority: row.priority), in: tx)
                try tx.exec("UPDATE generation_jobs SET job_id = ?, status = 'queued', lease_id = NULL WHERE id = ?", [.text(queued.id), .text(row.id)])
            }
        }
        if !waiting.isEmpty { ctx.log.info("\(waiting.count) stored generation(s) moved onto the kernel's job queue") }
    }
}
