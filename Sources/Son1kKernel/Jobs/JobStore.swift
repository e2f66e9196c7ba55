import Foundation
import Son1kPluginKit

/// The queue's state machine in SQL: every transition is one conditional UPDATE (`… AND
/// state = 'running' AND lease_id = ?`), so when two parties race for a job — two workers
/// leasing, a stale worker reporting on a job it lost, a cancel meeting a completion —
/// exactly one write wins and the other learns it lost. Each function runs inside the
/// caller's transaction and returns the job as it left it.
///
/// The statements are the portable subset (SQLite 3.35+ and PostgreSQL both have
/// `UPDATE … RETURNING`); on PostgreSQL the lease's inner SELECT adds `FOR UPDATE SKIP
/// LOCKED`, the one line that differs, so concurrent leases skip each other's rows.
struct JobStore: Sendable {
    let dialect: String

    /// The job `id` of `plugin`, or nil.
    func get(_ id: String, plugin: String, in tx: any StorageTransaction) throws -> JobRecord? {
        try tx.query("SELECT \(JobRecord.columns) FROM kernel_jobs WHERE id = ? AND plugin = ?", [.text(id), .text(plugin)]).first.map(JobRecord.init)
    }

    func get(_ id: String, plugin: String, in storage: any Storage) throws -> JobRecord? {
        try storage.query("SELECT \(JobRecord.columns) FROM kernel_jobs WHERE id = ? AND plugin = ?", [.text(id), .text(plugin)]).first.map(JobRecord.init)
    }

    /// Insert a job, or return the one holding its unique key (`duplicate` true).
    func insert(_ job: NewJob, now: Int64, in tx: any StorageTransaction) throws -> (JobRecord, duplicate: Bool) {
        if let key = job.uniqueKey, let existing = try tx.query(
            "SELECT \(JobRecord.columns) FROM kernel_jobs WHERE queue = ? AND unique_key = ?", [.text(job.queue), .text(key)]).first {
            return (JobRecord(row: existing), true)
        }
        if let limit = job.maxActivePerOwner, let owner = job.ownerID {
            let active = try tx.query("SELECT COUNT(*) AS n FROM kernel_jobs WHERE plugin = ? AND owner_id = ? AND state IN ('queued', 'running')",
                                      [.text(job.plugin), .text(owner)]).first?["n"]?.int ?? 0
            guard active < limit else {
                throw PluginError(status: 429, code: "too_many_active_jobs",
                                  detail: "There are \(active) jobs queued or running for this user; wait for one to finish (the limit is \(limit)).",
                                  headers: ["Retry-After": "10"])
            }
        }
        return (try insertRows([job], now: now, in: tx)[0], false)
    }

    /// Insert jobs that name no unique key, in statements of up to 200 rows: a batch of
    /// thousands is a handful of round trips to PostgreSQL, not one per job.
    func insertMany(_ jobs: [NewJob], now: Int64, in tx: any StorageTransaction) throws -> [JobRecord] {
        var records: [JobRecord] = []
        records.reserveCapacity(jobs.count)
        for start in stride(from: 0, to: jobs.count, by: 200) {
            records += try insertRows(Array(jobs[start..<min(start + 200, jobs.count)]), now: now, in: tx)
        }
        return records
    }

    /// One INSERT of `jobs`. No RETURNING: every column of the new rows is known here, and
    /// reading 28 of them back cost as much as the insert.
    private func insertRows(_ jobs: [NewJob], now: Int64, in tx: any StorageTransaction) throws -> [JobRecord] {
        let ids = jobs.map { _ in IDs.make("job") }
        var params: [SQLValue] = []
        params.reserveCapacity(jobs.count * 16)
        for (id, job) in zip(ids, jobs) {
            params += [.text(id), .text(job.plugin), .text(job.queue), .text(job.kind), .text(job.args), SQLValue(job.ownerID),
                       .int(Int64(job.priority)), .int(job.runAt ?? now), .int(Int64(job.maxAttempts)), .int(Int64(job.maxPostponements)),
                       .int(job.timeoutMs), .int(job.heartbeatTimeoutMs), .int(job.backoffBaseMs), SQLValue(job.uniqueKey), .int(now), .int(now)]
        }
        let row = "(?, ?, ?, ?, ?, ?, 'queued', ?, ?, 0, ?, 0, ?, ?, ?, ?, ?, ?, ?)"
        _ = try tx.execute("""
            INSERT INTO kernel_jobs (id, plugin, queue, kind, args, owner_id, state, priority, run_at, attempt, max_attempts,
                postponements, max_postponements, timeout_ms, heartbeat_timeout_ms, backoff_base_ms, unique_key, created_at, updated_at)
            VALUES \(Array(repeating: row, count: jobs.count).joined(separator: ", "))
            """, params)
        return zip(ids, jobs).map { JobRecord(inserted: $1, id: $0, now: now) }
    }

    /// Lease up to `limit` due jobs of `queues` (and `kinds`) to `worker`, most urgent first.
    func lease(queues: [String], kinds: [String]?, worker: String, limit: Int, now: Int64, in tx: any StorageTransaction) throws -> [JobRecord] {
        guard !queues.isEmpty, limit > 0 else { return [] }
        var filter = "state = 'queued' AND run_at <= ? AND queue IN (\(Self.marks(queues.count)))"
        var params: [SQLValue] = [.int(now)] + queues.map { .text($0) }
        if let kinds, !kinds.isEmpty {
            filter += " AND kind IN (\(Self.marks(kinds.count)))"
            params += kinds.map { .text($0) }
        }
        let skipLocked = dialect == "postgres" ? " FOR UPDATE SKIP LOCKED" : ""
        let lease = "lse_\(Crypto.hex(Crypto.randomBytes(12)))_"
        let rows = try tx.query("""
            UPDATE kernel_jobs SET state = 'running', attempt = attempt + 1, lease_id = ? || id, worker = ?, leased_at = ?,
                heartbeat_at = ?, progress = NULL, started_at = NULL, updated_at = ?
            WHERE id IN (SELECT id FROM kernel_jobs WHERE \(filter) ORDER BY priority DESC, run_at, id LIMIT ?\(skipLocked))
            RETURNING \(JobRecord.columns)
            """, [.text(lease), .text(worker), .int(now), .int(now), .int(now)] + params + [.int(Int64(limit))])
        return rows.map(JobRecord.init).sorted { ($0.priority, -$0.runAt) > ($1.priority, -$1.runAt) }
    }

    /// A leased job's progress (also a heartbeat). Nil when the lease is no longer valid.
    func progress(_ id: String, lease: String, fraction: Double, now: Int64, in tx: any StorageTransaction) throws -> JobRecord? {
        try tx.query("""
            UPDATE kernel_jobs SET progress = ?, heartbeat_at = ?, started_at = COALESCE(started_at, ?), updated_at = ?
            WHERE id = ? AND lease_id = ? AND state = 'running'
            RETURNING \(JobRecord.columns)
            """, [.double(fraction), .int(now), .int(now), .int(now), .text(id), .text(lease)]).first.map(JobRecord.init)
    }

    func complete(_ id: String, lease: String, result: String?, now: Int64, in tx: any StorageTransaction) throws -> JobRecord? {
        try tx.query("""
            UPDATE kernel_jobs SET state = 'completed', progress = 1, result = ?, lease_id = NULL, finished_at = ?, updated_at = ?,
                started_at = COALESCE(started_at, leased_at)
            WHERE id = ? AND lease_id = ? AND state = 'running'
            RETURNING \(JobRecord.columns)
            """, [SQLValue(result), .int(now), .int(now), .text(id), .text(lease)]).first.map(JobRecord.init)
    }

    /// Back to the queue at `runAt` (a retry, a postponement, a lost worker, a release), or
    /// nil when the lease is no longer valid. `refund` takes back the attempt.
    func requeue(_ id: String, lease: String, runAt: Int64, error: String?, refund: Bool, postponed: Bool, now: Int64,
                 in tx: any StorageTransaction) throws -> JobRecord? {
        try tx.query("""
            UPDATE kernel_jobs SET state = 'queued', run_at = ?, error = COALESCE(?, error), lease_id = NULL, worker = NULL,
                leased_at = NULL, heartbeat_at = NULL, progress = NULL, attempt = attempt - ?, postponements = postponements + ?, updated_at = ?
            WHERE id = ? AND lease_id = ? AND state = 'running'
            RETURNING \(JobRecord.columns)
            """, [.int(runAt), SQLValue(error), .int(refund ? 1 : 0), .int(postponed ? 1 : 0), .int(now), .text(id), .text(lease)])
            .first.map(JobRecord.init)
    }

    /// End a running job as `failed` or `timeout`, or nil when the lease is no longer valid.
    func end(_ id: String, lease: String, as state: JobInfo.State, error: String, now: Int64, in tx: any StorageTransaction) throws -> JobRecord? {
        try tx.query("""
            UPDATE kernel_jobs SET state = ?, error = ?, lease_id = NULL, finished_at = ?, updated_at = ?
            WHERE id = ? AND lease_id = ? AND state = 'running'
            RETURNING \(JobRecord.columns)
            """, [.text(state.rawValue), .text(error), .int(now), .int(now), .text(id), .text(lease)]).first.map(JobRecord.init)
    }

    /// Cancel a job not yet finished, or nil when it had finished.
    func cancel(_ id: String, plugin: String, now: Int64, in tx: any StorageTransaction) throws -> JobRecord? {
        try tx.query("""
            UPDATE kernel_jobs SET state = 'cancelled', lease_id = NULL, finished_at = ?, updated_at = ?
            WHERE id = ? AND plugin = ? AND state IN ('queued', 'running')
            RETURNING \(JobRecord.columns)
            """, [.int(now), .int(now), .text(id), .text(plugin)]).first.map(JobRecord.init)
    }

    /// Keep `worker`'s leases among `ids` alive; returns the ids it no longer holds.
    func heartbeat(worker: String, plugin: String, ids: [String], now: Int64, in tx: any StorageTransaction) throws -> [String] {
        guard !ids.isEmpty else { return [] }
        let held = try tx.query("""
            UPDATE kernel_jobs SET heartbeat_at = ? WHERE worker = ? AND plugin = ? AND state = 'running' AND id IN (\(Self.marks(ids.count)))
            RETURNING id
            """, [.int(now), .text(worker), .text(plugin)] + ids.map { .text($0) })
        let kept = Set(held.compactMap { $0["id"]?.string })
        return ids.filter { !kept.contains($0) }
    }

    /// Keep every running lease of `worker` alive (the kernel's own workers, all at once).
    func heartbeatAll(worker: String, now: Int64, in storage: any Storage) throws {
        _ = try storage.execute("UPDATE kernel_jobs SET heartbeat_at = ? WHERE worker = ? AND state = 'running'", [.int(now), .text(worker)])
    }

    /// Running jobs past their attempt's time limit, or whose worker went silent.
    func overdue(now: Int64, in storage: any Storage) throws -> (timedOut: [JobRecord], silent: [JobRecord]) {
        let rows = try storage.query("""
            SELECT \(JobRecord.columns) FROM kernel_jobs
            WHERE state = 'running' AND (leased_at + timeout_ms < ? OR heartbeat_at + heartbeat_timeout_ms < ?)
            ORDER BY leased_at LIMIT 500
            """, [.int(now), .int(now)]).map(JobRecord.init)
        let timedOut = rows.filter { ($0.leasedAt ?? 0) + $0.timeoutMs < now }
        return (timedOut, rows.filter { r in !timedOut.contains { $0.id == r.id } })
    }

    /// Running jobs of the kernel's own workers from an earlier start of this process (they
    /// died with it): only for SQLite, where one process serves the database.
    func orphans(notOf boot: String, in storage: any Storage) throws -> [JobRecord] {
        try storage.query("""
            SELECT \(JobRecord.columns) FROM kernel_jobs WHERE state = 'running' AND worker LIKE 'kernel/%' AND worker NOT LIKE ?
            """, [.text("kernel/\(boot)/%")]).map(JobRecord.init)
    }

    /// Delete up to `limit` jobs finished before `before`; returns how many.
    func prune(finishedBefore before: Int64, limit: Int, in storage: any Storage) throws -> Int {
        try storage.execute("""
            DELETE FROM kernel_jobs WHERE id IN (SELECT id FROM kernel_jobs WHERE finished_at < ? ORDER BY finished_at LIMIT ?)
            """, [.int(before), .int(Int64(limit))]).changes
    }

    /// A page of `plugin`'s jobs, newest first.
    func list(plugin: String, queue: String?, ownerID: String?, states: [JobInfo.State], limit: Int, cursor: (Int64, String)?,
              in storage: any Storage) throws -> [JobRecord] {
        var sql = "SELECT \(JobRecord.columns) FROM kernel_jobs WHERE plugin = ?"
        var params: [SQLValue] = [.text(plugin)]
        if let queue { sql += " AND queue = ?"; params.append(.text(queue)) }
        if let ownerID { sql += " AND owner_id = ?"; params.append(.text(ownerID)) }
        if !states.isEmpty { sql += " AND state IN (\(Self.marks(states.count)))"; params += states.map { .text($0.rawValue) } }
        if let (ms, id) = cursor { sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"; params += [.int(ms), .int(ms), .text(id)] }
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        params.append(.int(Int64(limit)))
        return try storage.query(sql, params).map(JobRecord.init)
    }

    static func marks(_ n: Int) -> String { Array(repeating: "?", count: n).joined(separator: ", ") }
}

/// A job to insert, validated (see ``EnqueueRequest``).
struct NewJob: Sendable {
    var plugin, queue, kind, args: String
    var ownerID: String?
    var priority: Int
    var runAt: Int64?
    var maxAttempts, maxPostponements: Int
    var timeoutMs, heartbeatTimeoutMs, backoffBaseMs: Int64
    var uniqueKey: String?
    var maxActivePerOwner: Int?
}
