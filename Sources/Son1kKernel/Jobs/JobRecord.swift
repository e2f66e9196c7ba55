import Foundation
import Son1kPluginKit

/// One row of `kernel_jobs`, as the queue reads it.
struct JobRecord: Sendable {
    static let columns = """
        id, plugin, queue, kind, args, owner_id, state, priority, run_at, attempt, max_attempts, postponements, \
        max_postponements, timeout_ms, heartbeat_timeout_ms, backoff_base_ms, unique_key, lease_id, worker, leased_at, \
        heartbeat_at, progress, result, error, created_at, updated_at, started_at, finished_at
        """

    var id: String
    var plugin: String
    /// The full name, `<plugin>.<queue>`.
    var queue: String
    var kind: String
    var args: String
    var ownerID: String?
    var state: JobInfo.State
    var priority: Int
    var runAt: Int64
    var attempt: Int
    var maxAttempts: Int
    var postponements: Int
    var maxPostponements: Int
    var timeoutMs: Int64
    var heartbeatTimeoutMs: Int64
    var backoffBaseMs: Int64
    var uniqueKey: String?
    var leaseID: String?
    var worker: String?
    var leasedAt: Int64?
    var heartbeatAt: Int64?
    var progress: Double?
    var result: String?
    var error: String?
    var createdAt: Int64
    var updatedAt: Int64
    var startedAt: Int64?
    var finishedAt: Int64?

    init(row: StorageRow) {
        func text(_ k: String) -> String { row[k]?.string ?? "" }
        func ms(_ k: String) -> Int64? { row[k]?.int64 }
        id = text("id")
        plugin = text("plugin")
        queue = text("queue")
        kind = text("kind")
        args = text("args")
        ownerID = row["owner_id"]?.string
        state = JobInfo.State(rawValue: text("state")) ?? .failed
        priority = row["priority"]?.int ?? 0
        runAt = ms("run_at") ?? 0
        attempt = row["attempt"]?.int ?? 0
        maxAttempts = row["max_attempts"]?.int ?? 1
        postponements = row["postponements"]?.int ?? 0
        maxPostponements = row["max_postponements"]?.int ?? 0
        timeoutMs = ms("timeout_ms") ?? 0
        heartbeatTimeoutMs = ms("heartbeat_timeout_ms") ?? 0
        backoffBaseMs = ms("backoff_base_ms") ?? 0
        uniqueKey = row["unique_key"]?.string
        leaseID = row["lease_id"]?.string
        worker = row["worker"]?.string
        leasedAt = ms("leased_at")
        heartbeatAt = ms("heartbeat_at")
        progress = row["progress"]?.double
        result = row["result"]?.string
        error = row["error"]?.string
        createdAt = ms("created_at") ?? 0
        updatedAt = ms("updated_at") ?? 0
        startedAt = ms("started_at")
        finishedAt = ms("finished_at")
    }

    /// The row ``JobStore/insert(_:now:in:)`` just wrote.
    init(inserted job: NewJob, id: String, now: Int64) {
        self.id = id
        plugin = job.plugin
        queue = job.queue
        kind = job.kind
        args = job.args
        ownerID = job.ownerID
        state = .queued
        priority = job.priority
        runAt = job.runAt ?? now
        attempt = 0
        maxAttempts = job.maxAttempts
        postponements = 0
        maxPostponements = job.maxPostponements
        timeoutMs = job.timeoutMs
        heartbeatTimeoutMs = job.heartbeatTimeoutMs
        backoffBaseMs = job.backoffBaseMs
        uniqueKey = job.uniqueKey
        createdAt = now
        updatedAt = now
    }

    /// The queue's name within its plugin.
    var shortQueue: String { String(queue.dropFirst(plugin.count + 1)) }

    /// The job as its plugin sees it (``JobInfo``): the lease only when `withLease`.
    func json(withLease: Bool = false, duplicate: Bool? = nil) -> JSONValue {
        func time(_ ms: Int64?) -> JSONValue { ms.map { .string(Timestamp.string(Date(epochMs: $0))) } ?? .null }
        var o: [String: JSONValue] = [
            "id": .string(id), "queue": .string(shortQueue), "kind": .string(kind),
            "args": (try? JSONValue.parse(Array(args.utf8))) ?? .null,
            "owner_id": ownerID.map { .string($0) } ?? .null, "state": .string(state.rawValue), "priority": .integer(Int64(priority)),
            "run_at": time(runAt), "attempt": .integer(Int64(attempt)), "max_attempts": .integer(Int64(maxAttempts)),
            "postponements": .integer(Int64(postponements)), "progress": progress.map { .number($0) } ?? .null,
            "worker": worker.map { .string($0) } ?? .null,
            "result": result.flatMap { try? JSONValue.parse(Array($0.utf8)) } ?? .null,
            "error": error.map { .string($0) } ?? .null, "unique_key": uniqueKey.map { .string($0) } ?? .null,
            "timeout_s": .number(Double(timeoutMs) / 1000),
            "created_at": time(createdAt), "updated_at": time(updatedAt), "started_at": time(startedAt), "finished_at": time(finishedAt),
        ]
        if withLease { o["lease_id"] = leaseID.map { .string($0) } ?? .null }
        if let duplicate { o["duplicate"] = .bool(duplicate) }
        return .object(o)
    }
}
