import Foundation
import Son1kPluginKit

/// `GET /api/admin/queues`: every queue with its depth by state, the jobs running now and
/// the latest failures — what an operator looks at when work is late.
struct QueueOverview: Codable, Sendable {
    struct Queue: Codable, Sendable {
        /// `<plugin>.<queue>`.
        var name: String
        var plugin: String
        /// Waiting, of which `due` could run now (the rest wait for their time or a retry).
        var queued: Int
        var due: Int
        var running: Int
        var completed: Int
        var failed: Int
        var timeout: Int
        var cancelled: Int
        /// Threads the kernel runs for this queue here (external workers are not counted).
        var workerThreads: Int
        /// When the longest-waiting due job became due.
        var oldestDueAt: String?
    }
    struct Running: Codable, Sendable {
        var id: String
        var queue: String
        var kind: String
        var worker: String?
        var attempt: Int
        var progress: Double?
        var leasedAt: String?
        var heartbeatAt: String?
    }
    struct Failure: Codable, Sendable {
        var id: String
        var queue: String
        var kind: String
        var state: String
        var attempt: Int
        var error: String?
        var finishedAt: String?
    }

    var queues: [Queue]
    var running: [Running]
    var failures: [Failure]

    static func read(_ jobs: KernelQueue, declared: [(plugin: String, queue: String)]) throws -> QueueOverview {
        let now = jobs.now
        var byName: [String: Queue] = [:]
        func empty(_ name: String, _ plugin: String) -> Queue {
            Queue(name: name, plugin: plugin, queued: 0, due: 0, running: 0, completed: 0, failed: 0, timeout: 0, cancelled: 0,
                  workerThreads: jobs.workerThreads[name] ?? 0, oldestDueAt: nil)
        }
        for d in declared { byName["\(d.plugin).\(d.queue)"] = empty("\(d.plugin).\(d.queue)", d.plugin) }
        let rows = try jobs.storage.query("""
            SELECT queue, plugin, state, COUNT(*) AS n, SUM(CASE WHEN state = 'queued' AND run_at <= ? THEN 1 ELSE 0 END) AS due,
                MIN(CASE WHEN state = 'queued' AND run_at <= ? THEN run_at END) AS oldest
            FROM kernel_jobs GROUP BY queue, plugin, state
            """, [.int(now), .int(now)])
        for row in rows {
            guard let name = row["queue"]?.string, let plugin = row["plugin"]?.string else { continue }
            var q = byName[name] ?? empty(name, plugin)
            let n = row["n"]?.int ?? 0
            switch row["state"]?.string {
            case "queued":
                q.queued = n
                q.due = row["due"]?.int ?? 0
                q.oldestDueAt = row["oldest"]?.int64.map { Timestamp.string(Date(epochMs: $0)) }
            case "running": q.running = n
            case "completed": q.completed = n
            case "failed": q.failed = n
            case "timeout": q.timeout = n
            case "cancelled": q.cancelled = n
            default: break
            }
            byName[name] = q
        }
        func time(_ v: JSONValue?) -> String? { v?.int64.map { Timestamp.string(Date(epochMs: $0)) } }
        let running = try jobs.storage.query("""
            SELECT id, queue, kind, worker, attempt, progress, leased_at, heartbeat_at FROM kernel_jobs
            WHERE state = 'running' ORDER BY leased_at LIMIT 100
            """, []).map { r in
            Running(id: r["id"]?.string ?? "", queue: r["queue"]?.string ?? "", kind: r["kind"]?.string ?? "", worker: r["worker"]?.string,
                    attempt: r["attempt"]?.int ?? 0, progress: r["progress"]?.double, leasedAt: time(r["leased_at"]), heartbeatAt: time(r["heartbeat_at"]))
        }
        let failures = try jobs.storage.query("""
            SELECT id, queue, kind, state, attempt, error, finished_at FROM kernel_jobs
            WHERE state IN ('failed', 'timeout') AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 50
            """, []).map { r in
            Failure(id: r["id"]?.string ?? "", queue: r["queue"]?.string ?? "", kind: r["kind"]?.string ?? "", state: r["state"]?.string ?? "",
                    attempt: r["attempt"]?.int ?? 0, error: r["error"]?.string, finishedAt: time(r["finished_at"]))
        }
        return QueueOverview(queues: byName.values.sorted { $0.name < $1.name }, running: running, failures: failures)
    }
}
