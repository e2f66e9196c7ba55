import Foundation
import Son1kPluginKit

/// The job queue's test plugin: what a plugin author writes to run background work on the
/// kernel's queue. The first block is all it takes (a route enqueueing in its transaction, a
/// worker reporting progress and completing with an action in one transaction); the rest gives
/// the queue tests their levers (failures, hangs, postponements, an external worker's routes).
struct TasksPlugin: Plugin {
    static let manifest = Manifest(name: "tasks", version: "1.0.0", description: "Runs echo jobs on the kernel's queue.")

    static let migrations: [Migration] = [
        .init(1, "CREATE TABLE tasks_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, text TEXT NOT NULL)"),
        .init(2, """
            CREATE TABLE tasks_changes (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, cause TEXT NOT NULL, state TEXT NOT NULL,
                attempt INTEGER NOT NULL, run_at_ms INTEGER NOT NULL, at_ms INTEGER NOT NULL)
            """),
        .init(3, "CREATE TABLE tasks_failures (event_id TEXT PRIMARY KEY, job_id TEXT NOT NULL, state TEXT NOT NULL)"),
        .init(4, "CREATE TABLE tasks_notes (key TEXT PRIMARY KEY, part INTEGER NOT NULL)"),
    ]

    func register(_ r: inout Registry<NoConfig>) {
        // --- The queue in fifteen lines ---------------------------------------------------
        r.post("/api/tasks", auth: .user, summary: "Echo a text in the background", body: Echo.self, returns: JobInfo.self, status: 202) { req, input, ctx in
            try ctx.db.transaction { tx in
                try tx.exec("INSERT INTO tasks_requests (user_id, text) VALUES (?, ?)", [.text(try req.requirePrincipal().id), .text(input.text)])
                return try ctx.jobs.enqueue(input, options: .init(ownerID: try req.requirePrincipal().id, uniqueKey: input.key), in: tx)
            }
        }
        r.worker(Echo.self, concurrency: 8) { job, ctx in
            if let ms = job.args.sleepMs { Thread.sleep(forTimeInterval: Double(ms) / 1000) }
            try job.progress(0.5)
            try ctx.db.transaction { tx in
                try ctx.publishAction(.tasksEchoed, Echoed(jobId: job.id, text: job.args.text), in: tx)
                try job.complete(in: tx)
            }
        }
        // ------------------------------------------------------------------------------------

        r.post("/api/tasks/batch", auth: .user, summary: "Enqueue many echoes in one transaction", body: Batch.self, returns: BatchAnswer.self, status: 202) { req, input, ctx in
            guard (1...100_000).contains(input.count) else { throw PluginError.invalid("count", "must be 1 to 100000.") }
            let user = try req.requirePrincipal().id
            let echoes = (0..<input.count).map { Echo(text: "\(input.prefix ?? "echo") \($0)", sleepMs: input.sleepMs) }
            let ids = try ctx.jobs.enqueue(echoes, options: .init(ownerID: user, heartbeatTimeout: input.heartbeatTimeoutS))
            return BatchAnswer(first: ids.first ?? "", last: ids.last ?? "", count: ids.count)
        }
        // Two rows per request, and on purpose a third that breaks the primary key: the
        // request then fails and neither of its rows may remain, whoever shared its commit.
        r.post("/api/tasks/notes", auth: .user, summary: "Write two notes, or fail trying", body: Note.self, returns: NoContent.self) { _, input, ctx in
            try ctx.db.transaction { tx in
                try tx.exec("INSERT INTO tasks_notes (key, part) VALUES (?, 1)", [.text(input.key)])
                try tx.exec("INSERT INTO tasks_notes (key, part) VALUES (?, 2)", [.text(input.key + "-b")])
                if input.fail { try tx.exec("INSERT INTO tasks_notes (key, part) VALUES (?, 3)", [.text(input.key)]) }
            }
            return NoContent()
        }
        r.post("/api/tasks/noops", auth: .user, summary: "Enqueue jobs that do nothing (the queue's own cost)", body: Batch.self, returns: BatchAnswer.self, status: 202) { _, input, ctx in
            guard (1...200_000).contains(input.count) else { throw PluginError.invalid("count", "must be 1 to 200000.") }
            let ids = try ctx.jobs.enqueue(Array(repeating: Noop(), count: input.count))
            return BatchAnswer(first: ids.first ?? "", last: ids.last ?? "", count: ids.count)
        }
        r.worker(Noop.self, concurrency: 4) { _, _ in }
        r.post("/api/tasks/chores", auth: .user, summary: "Enqueue a chore that misbehaves as asked", body: ChoreRequest.self, returns: JobInfo.self, status: 202) { req, input, ctx in
            try ctx.jobs.enqueue(input.chore, options: .init(queue: input.queue, ownerID: try req.requirePrincipal().id, priority: input.priority ?? 0,
                                                             delay: input.delayS, maxAttempts: input.maxAttempts, timeout: input.timeoutS,
                                                             heartbeatTimeout: input.heartbeatTimeoutS, backoffBaseMs: input.backoffBaseMs,
                                                             maxPostponements: input.maxPostponements, uniqueKey: input.uniqueKey,
                                                             maxActivePerOwner: input.maxActive))
        }
        r.worker(Chore.self, concurrency: 4) { job, ctx in
            switch job.args.mode {
            case "fail":
                if job.attempt <= (job.args.times ?? .max) { throw JobError.fail("attempt \(job.attempt) failed on purpose", retryable: true) }
            case "fatal":
                throw JobError.fail("this chore cannot be done", retryable: false)
            case "postpone":
                if job.info.postponements < (job.args.times ?? 1) { throw JobError.postpone(after: job.args.seconds ?? 0.2, reason: "not yet") }
            case "hang":
                // Works without reporting: only the attempt's time limit ends it.
                Thread.sleep(forTimeInterval: job.args.seconds ?? 1)
            case "slow":
                // Reports progress while it works, so a cancellation stops it.
                let end = Date().addingTimeInterval(job.args.seconds ?? 1)
                while Date() < end {
                    try job.progress(min(0.99, 1 - end.timeIntervalSinceNow / (job.args.seconds ?? 1)))
                    Thread.sleep(forTimeInterval: 0.02)
                }
            default:
                break
            }
        }
        r.jobs(Chore.self, queues: ["manual"])
        r.onJobChange(Chore.self) { change, ctx in
            try ctx.db.exec("INSERT INTO tasks_changes (job_id, cause, state, attempt, run_at_ms, at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                            [.text(change.job.id), .text(change.cause.rawValue), .text(change.job.state.rawValue), .int(Int64(change.job.attempt)),
                             .int(change.job.runAt.epochMs), .int(change.job.updatedAt.epochMs)])
        }
        r.onAction(.jobFailed) { event, ctx in
            try ctx.db.exec("INSERT INTO tasks_failures (event_id, job_id, state) VALUES (?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                            [.text(event.id), .text(event.payload.jobId), .text(event.payload.state)])
        }

        r.get("/api/tasks/jobs/{id}", auth: .user, summary: "One job", returns: JobInfo.self) { req, ctx in
            guard let job = try ctx.jobs.get(req.param("id")), try req.requirePrincipal().mayActFor(job.ownerId ?? "") else {
                throw PluginError.notFound("You have no job \(req.param("id")).", code: "job_not_found")
            }
            return job
        }
        r.delete("/api/tasks/jobs/{id}", auth: .user, summary: "Cancel a job", returns: JobInfo.self) { req, ctx in
            try ctx.jobs.cancel(req.param("id"))
        }
        r.get("/api/tasks/jobs", auth: .user, summary: "My jobs, newest first", returns: JobPage.self) { req, ctx in
            try ctx.jobs.list(ownerID: try req.requirePrincipal().id, states: (req.query("state")?.split(separator: ",") ?? []).compactMap { JobInfo.State(rawValue: String($0)) },
                              limit: try req.pageLimit(), cursor: req.query("cursor"))
        }
        // An external worker's side of the queue, for the queue named "manual".
        r.post("/api/tasks/manual/lease", auth: .user, summary: "Lease manual chores", body: LeaseRequest.self, returns: [JobInfo].self) { _, input, ctx in
            try ctx.jobs.lease(queues: ["manual"], worker: input.worker, limit: input.limit ?? 1)
        }
        r.post("/api/tasks/manual/{id}/report", auth: .user, summary: "Report on a leased chore", body: Report.self, returns: JobInfo.self) { req, input, ctx in
            let id = req.param("id")
            switch input.action {
            case "complete": return try ctx.jobs.complete(id, leaseID: input.leaseId, result: ["by": .string(input.worker ?? "")])
            case "fail": return try ctx.jobs.fail(id, leaseID: input.leaseId, error: "failed by hand", retryable: input.retryable ?? true)
            case "postpone": return try ctx.jobs.postpone(id, leaseID: input.leaseId, reason: "later", afterSeconds: input.seconds ?? 1)
            case "release": return try ctx.jobs.release(id, leaseID: input.leaseId)
            default: return try ctx.jobs.progress(id, leaseID: input.leaseId, input.progress ?? 0.5)
            }
        }
        r.post("/api/tasks/manual/heartbeat", auth: .user, summary: "Heartbeat for leased chores", body: Beat.self, returns: [String].self) { _, input, ctx in
            try ctx.jobs.heartbeat(worker: input.worker, jobIDs: input.jobIds)
        }
    }
}

struct Echo: JobArgs {
    static let kind = "echo"
    var text: String
    var sleepMs: Int?
    /// A unique key: the same key again returns the job it made.
    var key: String?
}

/// Nothing to do: the kernel completes it (in a batch with others).
struct Noop: JobArgs {
    static let kind = "noop"
    static let queue = "noop"
}

struct Note: Codable, Sendable {
    var key: String
    var fail: Bool
}

struct Echoed: Codable, Sendable {
    var jobId: String
    var text: String
}

extension Topic where Payload == Echoed { static let tasksEchoed = Topic("tasks.echoed") }

struct Chore: JobArgs {
    static let kind = "chore"
    /// ok, fail (the first `times` attempts), fatal, postpone (`times` times for `seconds`),
    /// hang (`seconds` without a report), slow (`seconds` with progress), anything else succeeds.
    var mode: String
    var times: Int?
    var seconds: Double?
}

struct ChoreRequest: Codable, Sendable {
    var chore: Chore
    var queue: String?
    var priority: Int?
    var delayS: Double?
    var maxAttempts: Int?
    var timeoutS: Double?
    var heartbeatTimeoutS: Double?
    var backoffBaseMs: Int?
    var maxPostponements: Int?
    var uniqueKey: String?
    var maxActive: Int?
}

struct Batch: Codable, Sendable {
    var count: Int
    var prefix: String?
    var sleepMs: Int?
    var heartbeatTimeoutS: Double?
}
struct BatchAnswer: Codable, Sendable {
    var first: String
    var last: String
    var count: Int
}
struct LeaseRequest: Codable, Sendable {
    var worker: String
    var limit: Int?
}
struct Report: Codable, Sendable {
    var action: String
    var leaseId: String
    var worker: String?
    var progress: Double?
    var retryable: Bool?
    var seconds: Double?
}
struct Beat: Codable, Sendable {
    var worker: String
    var jobIds: [String]
}

@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(TasksPlugin.self) }
