import Foundation
import Son1kPluginKit

/// Who is working: the worker's chosen id within the credentials it authenticated with.
struct WorkerIdentity: Sendable {
    var principal: String
    var id: String
    var kind: String

    /// The name the kernel's queue knows the worker by.
    var name: String { "\(principal)/\(id)" }

    /// The worker a kernel job names: an external one (`principal/id`), or the kernel's own.
    static func parse(_ worker: String?) -> WorkerIdentity? {
        guard let worker else { return nil }
        if worker.hasPrefix("kernel/") { return WorkerIdentity(principal: "builtin", id: "kernel", kind: "builtin") }
        let parts = worker.split(separator: "/", maxSplits: 1).map(String.init)
        return parts.count == 2 ? WorkerIdentity(principal: parts[0], id: parts[1], kind: "external") : nil
    }
}

/// The external workers the plugin has seen (`generation_workers`), for `GET /api/admin/workers`:
/// their engines, last contact, current job and counts. The kernel's own worker threads are in
/// `GET /api/admin/queues`.
struct WorkerRegistry {
    let ctx: Context<GenerationPlugin.Config>

    func touch(_ worker: WorkerIdentity, engines: [String]?, currentJob: String?, keepJob: Bool = false, in tx: Database) throws {
        let now = ctx.now.epochMs
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

    /// One more job completed (or failed) by `worker`, which holds none now.
    func count(_ worker: WorkerIdentity, completed: Bool, in tx: Database) throws {
        let column = completed ? "completed" : "failed"
        try tx.exec("UPDATE generation_workers SET \(column) = \(column) + 1, current_job = NULL WHERE principal = ? AND id = ?",
                    [.text(worker.principal), .text(worker.id)])
    }

    /// Most recently seen first.
    func workers() throws -> [WorkerView] {
        struct Row: Decodable {
            var principal, id, kind, engines, firstSeenAt: String
            var lastSeenMs: Int64
            var currentJob: String?
            var completed, failed: Int
        }
        let now = ctx.now.epochMs
        return try ctx.db.query(Row.self, "SELECT principal, id, kind, engines, last_seen_ms, first_seen_at, current_job, completed, failed FROM generation_workers ORDER BY last_seen_ms DESC LIMIT 500")
            .map { w in
                WorkerView(id: w.id, kind: w.kind, principal: w.principal,
                           engines: try JSONValueDecoder.decode([String].self, from: JSONValue.parse(Array(w.engines.utf8))),
                           lastSeenAt: Date(epochMs: w.lastSeenMs), firstSeenAt: Date(iso8601: w.firstSeenAt) ?? Date(epochMs: w.lastSeenMs),
                           alive: now - w.lastSeenMs < Int64(ctx.config.heartbeatTimeoutS) * 1000, currentJob: w.currentJob,
                           completed: w.completed, failed: w.failed)
            }
    }
}
