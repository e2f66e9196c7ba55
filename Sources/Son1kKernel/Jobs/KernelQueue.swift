import Foundation
import Logging
import Son1kPluginKit
import Synchronization

/// The kernel's job queue: one implementation for every plugin (DESIGN §4 "Job queue").
///
/// Plugins reach it through the host function `queue` (``perform(_:_:txn:plugin:)``); the
/// kernel runs the workers plugins register on threads of its own (``JobRunner``) and times
/// out attempts and re-queues the jobs of silent workers (``JobMaintenance``). The state
/// lives in `kernel_jobs` (``JobStore``), so a crash loses nothing: a job leased by a worker
/// that died is found again by its lease's age.
///
/// Every change happens in one transaction — the caller's when a plugin passes one (a job
/// enqueued in a request's transaction exists exactly when the request's writes do), else
/// one of the kernel's — together with what the change implies: the owning plugin's change
/// handler (`on_change`), and on a final state the `queue.job_*` action to the owner when it
/// subscribes.
final class KernelQueue: Sendable {
    let storage: any Storage
    let transactions: TransactionTable
    let events: EventBus
    let settings: KernelSettings
    let logger: Logger
    let metrics: MetricsRegistry
    let store: JobStore
    /// This start of the process: the kernel's own workers lease as `kernel/<boot>/<plugin>`.
    let boot = Crypto.hex(Crypto.randomBytes(6))
    private let plugins = Mutex<[String: LoadedPlugin]>([:])
    private let runners = Mutex<[JobRunner]>([])
    /// False until boot finished: workers registered before then start in ``startWorkers()``.
    private let started = Mutex(false)
    /// Set when a graceful shutdown begins: the kernel's workers are told to stop.
    private let draining = Atomic<Bool>(false)

    init(storage: any Storage, transactions: TransactionTable, events: EventBus, settings: KernelSettings, logger: Logger, metrics: MetricsRegistry) {
        self.storage = storage
        self.transactions = transactions
        self.events = events
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        store = JobStore(dialect: storage.dialect)
    }

    func configure(plugins list: [LoadedPlugin]) {
        plugins.withLock { map in for p in list { map[p.name] = p } }
    }

    var now: Int64 { Date().epochMs }
    var isDraining: Bool { draining.load(ordering: .acquiring) }
    func kernelWorker(for plugin: String) -> String { "kernel/\(boot)/\(plugin)" }

    // MARK: The host function

    /// One `queue` host call of `plugin`.
    func perform(_ op: String, _ r: JSONValue, txn: UInt64, plugin: LoadedPlugin) throws -> JSONValue {
        switch op {
        case "enqueue": return try enqueue(r, txn: txn, plugin: plugin)
        case "enqueue_many": return try enqueueMany(r, txn: txn, plugin: plugin)
        case "get":
            guard let job = try store.get(try EnqueueRequest.string(r, "id"), plugin: plugin.name, in: storage) else { throw notFound(r["id"].string ?? "") }
            return job.json()
        case "list": return try list(r, plugin: plugin)
        case "lease": return try lease(r, txn: txn, plugin: plugin)
        case "heartbeat":
            let ids = (r["job_ids"].array ?? []).compactMap(\.string)
            guard ids.count <= EnqueueRequest.maxIDsPerCall else {
                throw EnqueueRequest.invalid("job_ids", "may name at most \(EnqueueRequest.maxIDsPerCall) jobs.")
            }
            let worker = try EnqueueRequest.string(r, "worker")
            let lost = try inTransaction(txn) { tx, _ in try store.heartbeat(worker: worker, plugin: plugin.name, ids: ids, now: now, in: tx) }
            return ["lost": .array(lost.map { .string($0) })]
        case "progress", "complete", "fail", "postpone", "release":
            return try report(op, r, txn: txn, plugin: plugin)
        case "cancel":
            let id = try EnqueueRequest.string(r, "id")
            return try inTransaction(txn) { tx, handle in
                guard let job = try store.cancel(id, plugin: plugin.name, now: now, in: tx) else {
                    guard let current = try store.get(id, plugin: plugin.name, in: tx) else { throw notFound(id) }
                    throw PluginError.conflict("The job is already \(current.state.rawValue).", code: "not_cancellable")
                }
                try changed(job, .cancelled, handle: handle)
                return job.json()
            }
        case "status":
            let id = try EnqueueRequest.string(r, "id")
            guard let job = try store.get(id, plugin: plugin.name, in: storage) else { throw notFound(id) }
            if job.state != .running || job.leaseID != r["lease_id"].string { return ["stop": true, "reason": .string("the job is \(job.state.rawValue) and no longer this worker's")] }
            if isDraining, job.worker?.hasPrefix("kernel/") == true { return ["stop": true, "reason": "the server is shutting down"] }
            return ["stop": false]
        case "run":
            try run(kind: try EnqueueRequest.string(r, "kind"), queue: try EnqueueRequest.string(r, "queue"),
                    concurrency: r["concurrency"].int ?? 1, plugin: plugin)
            return [:]
        default:
            throw PluginError(status: 400, code: "unknown_queue_operation", detail: "The queue has no operation '\(op)'.")
        }
    }

    private func enqueue(_ r: JSONValue, txn: UInt64, plugin: LoadedPlugin) throws -> JSONValue {
        let job = try EnqueueRequest.read(r, plugin: plugin, maxArgsBytes: settings.jobMaxArgsBytes, now: now)
        return try inTransaction(txn, .serializable) { tx, handle in
            let (record, duplicate) = try store.insert(job, now: now, in: tx)
            if !duplicate {
                try changed(record, .enqueued, handle: handle)
                wakeAfterCommit(record.queue, handle: handle)
            }
            return record.json(duplicate: duplicate)
        }
    }

    /// Many jobs of one kind and the same options in one call (River's InsertMany): one host
    /// call and one wake-up instead of one per job. Answers their ids, in order.
    private func enqueueMany(_ r: JSONValue, txn: UInt64, plugin: LoadedPlugin) throws -> JSONValue {
        let items = r["args"].array ?? []
        guard (1...100_000).contains(items.count) else { throw EnqueueRequest.invalid("args", "must hold 1 to 100000 jobs' arguments.") }
        guard r["unique_key"].isNull else {
            throw EnqueueRequest.invalid("unique_key", "names one job: enqueue jobs with unique keys one at a time.")
        }
        let now = self.now
        var template = r
        let limit = r["max_active_per_owner"].int
        template["max_active_per_owner"] = nil
        template["args"] = items[0]
        // The options are the batch's: checked once; then each job's arguments alone.
        let first = try EnqueueRequest.read(template, plugin: plugin, maxArgsBytes: settings.jobMaxArgsBytes, now: now)
        let jobs = try items.map { item -> NewJob in
            var job = first
            job.args = try EnqueueRequest.args(item, maxBytes: settings.jobMaxArgsBytes)
            return job
        }
        return try inTransaction(txn, .serializable) { tx, handle in
            if let limit, let owner = jobs.first?.ownerID {
                let active = try tx.query("SELECT COUNT(*) AS n FROM kernel_jobs WHERE plugin = ? AND owner_id = ? AND state IN ('queued', 'running')",
                                          [.text(plugin.name), .text(owner)]).first?["n"]?.int ?? 0
                guard active + jobs.count <= limit else {
                    throw PluginError(status: 429, code: "too_many_active_jobs",
                                      detail: "There are \(active) jobs queued or running for this user; \(jobs.count) more would pass the limit of \(limit).",
                                      headers: ["Retry-After": "10"])
                }
            }
            let records = try store.insertMany(jobs, now: now, in: tx)
            for record in records { try changed(record, .enqueued, handle: handle) }
            let ids = records.map { JSONValue.string($0.id) }
            if let queue = jobs.first?.queue { wakeAfterCommit(queue, handle: handle) }
            return ["ids": .array(ids)]
        }
    }

    private func list(_ r: JSONValue, plugin: LoadedPlugin) throws -> JSONValue {
        let limit = min(max(r["limit"].int ?? 50, 1), 500)
        var cursor: (Int64, String)?
        if let raw = r["cursor"].string {
            let parts = raw.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, let ms = Int64(parts[0]) else { throw PluginError.invalid("cursor", "is not a cursor this list returned.") }
            cursor = (ms, String(parts[1]))
        }
        var states: [JobInfo.State] = []
        for s in (r["states"].array ?? []).compactMap(\.string) {
            guard let state = JobInfo.State(rawValue: s) else { throw PluginError.invalid("states", "has an unknown state '\(s)'.") }
            states.append(state)
        }
        let rows = try store.list(plugin: plugin.name, queue: r["queue"].string.map { "\(plugin.name).\($0)" }, ownerID: r["owner_id"].string,
                                  states: states, limit: limit + 1, cursor: cursor, in: storage)
        let page = Array(rows.prefix(limit))
        let next: JSONValue = rows.count > limit ? page.last.map { .string("\($0.createdAt)_\($0.id)") } ?? .null : .null
        return ["jobs": .array(page.map { $0.json() }), "next_cursor": next]
    }

    private func lease(_ r: JSONValue, txn: UInt64, plugin: LoadedPlugin) throws -> JSONValue {
        let queues = (r["queues"].array ?? []).compactMap(\.string)
        guard (1...32).contains(queues.count) else { throw PluginError.invalid("queues", "must name 1 to 32 queues.") }
        let declared = Set((plugin.manifest?.jobs ?? []).map(\.queue))
        for q in queues where !declared.contains(q) {
            throw PluginError(status: 400, code: "unknown_queue", detail: "The plugin '\(plugin.name)' declares no queue '\(q)'.")
        }
        let worker = try EnqueueRequest.string(r, "worker")
        guard !worker.hasPrefix("kernel/") else { throw PluginError.invalid("worker", "must not start with 'kernel/' (the kernel's own workers).") }
        let limit = min(max(r["limit"].int ?? 1, 1), 100)
        let kinds = r["kinds"].array?.compactMap(\.string)
        guard (kinds?.count ?? 0) <= 32 else { throw PluginError.invalid("kinds", "must name at most 32 kinds.") }
        let jobs = try leaseJobs(queues: queues.map { "\(plugin.name).\($0)" }, kinds: kinds, worker: worker, limit: limit, txn: txn)
        return ["jobs": .array(jobs.map { $0.json(withLease: true) })]
    }

    /// Lease and tell the owners (one transaction).
    func leaseJobs(queues: [String], kinds: [String]?, worker: String, limit: Int, txn: UInt64 = 0) throws -> [JobRecord] {
        try inTransaction(txn) { tx, handle in
            let jobs = try store.lease(queues: queues, kinds: kinds, worker: worker, limit: limit, now: now, in: tx)
            for job in jobs { try changed(job, .leased, handle: handle) }
            return jobs
        }
    }

    /// A worker's report on a job it leased.
    private func report(_ op: String, _ r: JSONValue, txn: UInt64, plugin: LoadedPlugin) throws -> JSONValue {
        let id = try EnqueueRequest.string(r, "id")
        let lease = try EnqueueRequest.string(r, "lease_id")
        return try inTransaction(txn) { tx, handle in
            guard let current = try store.get(id, plugin: plugin.name, in: tx) else { throw notFound(id) }
            guard current.state == .running, current.leaseID == lease else {
                metrics.increment("son1k_jobs_stale_reports_total", labels: ["queue": current.queue])
                throw leaseError(current)
            }
            let outcome: JobOutcome
            switch op {
            case "progress":
                if isDraining, current.worker?.hasPrefix("kernel/") == true {
                    throw PluginError.conflict("The server is shutting down; the job goes back to the queue.", code: "shutting_down")
                }
                let f = r["progress"].double ?? 0
                let job = try store.progress(id, lease: lease, fraction: min(1, max(0, f.isFinite ? f : 0)), now: now, in: tx)
                guard let job else { throw leaseError(current) }
                try changed(job, .progress, handle: handle)
                return job.json(withLease: true)
            case "complete":
                let result = r["result"].isNull ? nil : r["result"].jsonString
                guard let job = try store.complete(id, lease: lease, result: result, now: now, in: tx) else { throw leaseError(current) }
                metrics.increment("son1k_jobs_total", labels: ["queue": job.queue, "outcome": "completed"])
                try changed(job, .completed, handle: handle)
                return job.json()
            case "fail": outcome = .failed(r["error"].string ?? "the worker failed", retryable: r["retryable"].bool ?? true)
            case "postpone": outcome = .postponed(r["reason"].string ?? "postponed", after: r["after_s"].double ?? 0)
            default: outcome = .stopped("released")
            }
            if case .postponed(_, let after) = outcome, !(after >= 0 && after.isFinite) {
                throw PluginError.invalid("after_s", "must be 0 or more seconds.")
            }
            guard let job = try settle(current, lease: lease, outcome, tx: tx, handle: handle) else { throw leaseError(current) }
            return job.json()
        }
    }

    // MARK: Transitions shared by reports, the kernel's workers and the reaper

    /// Apply an attempt's outcome (other than progress). Nil when the lease was no longer valid.
    func settle(_ job: JobRecord, lease: String, _ outcome: JobOutcome, tx: any StorageTransaction, handle: UInt64) throws -> JobRecord? {
        let now = self.now
        let changedJob: JobRecord?
        let cause: JobChangeCause
        switch outcome {
        case .done:
            changedJob = try store.complete(job.id, lease: lease, result: nil, now: now, in: tx)
            cause = .completed
        case .failed(let error, let retryable):
            let text = String(error.prefix(2000))
            if retryable && job.attempt < job.maxAttempts {
                changedJob = try store.requeue(job.id, lease: lease, runAt: now + backoff(job), error: text, refund: false, postponed: false, now: now, in: tx)
                cause = .retrying
            } else {
                changedJob = try store.end(job.id, lease: lease, as: .failed, error: text, now: now, in: tx)
                cause = .failed
            }
        case .postponed(let reason, let after):
            let text = String(reason.prefix(2000))
            if job.postponements >= job.maxPostponements {
                changedJob = try store.end(job.id, lease: lease, as: .failed, error: "\(text) (given up after \(job.postponements) postponements)", now: now, in: tx)
                cause = .failed
            } else {
                changedJob = try store.requeue(job.id, lease: lease, runAt: now + Int64(after * 1000), error: text, refund: true, postponed: true, now: now, in: tx)
                cause = .postponed
            }
        case .stopped:
            changedJob = try store.requeue(job.id, lease: lease, runAt: now, error: nil, refund: true, postponed: false, now: now, in: tx)
            cause = .released
        }
        guard let changedJob else {
            // A report from an attempt that no longer holds the job (timed out, cancelled, lost).
            metrics.increment("son1k_jobs_stale_reports_total", labels: ["queue": job.queue])
            return nil
        }
        metrics.increment("son1k_jobs_total", labels: ["queue": job.queue, "outcome": cause.rawValue])
        try changed(changedJob, cause, handle: handle)
        if changedJob.state == .queued { wakeAfterCommit(changedJob.queue, handle: handle) }
        return changedJob
    }

    /// `base × 2^(attempt−1)`, at most six hours, plus up to 10 % so that many jobs failing
    /// together do not all come back at once.
    func backoff(_ job: JobRecord) -> Int64 {
        let exact = Double(job.backoffBaseMs) * pow(2, Double(max(0, job.attempt - 1)))
        let capped = min(exact, 6 * 3600 * 1000)
        return Int64(capped + capped * Double.random(in: 0..<0.1))
    }

    /// Tell the owning plugin of a change (when it asked to hear of this kind), and announce a
    /// final state to it (when it subscribes to `queue.job_<state>`), inside `handle`.
    func changed(_ job: JobRecord, _ cause: JobChangeCause, handle: UInt64) throws {
        guard let plugin = plugins.withLock({ $0[job.plugin] }) else { return }
        if plugin.manifest?.jobs.contains(where: { $0.kind == job.kind && $0.onChange }) == true {
            let envelope: JSONValue = ["phase": "changed", "cause": .string(cause.rawValue), "job": job.json(withLease: true)]
            if let answer = plugin.handleJob(envelope: envelope.bytes, txn: handle) {
                if answer["conflict"].bool == true {
                    throw StorageError(kind: .conflict, message: "the job change handler of '\(plugin.name)' conflicted with another transaction")
                }
                logger.error("the job change handler of '\(plugin.name)' failed (\(cause.rawValue) \(job.id)): \(answer["error"].string ?? "")")
                throw PluginError(status: 500, code: "job_change_failed",
                                  detail: "The plugin '\(plugin.name)' failed while handling the \(cause.rawValue) of job \(job.id).")
            }
        }
        guard job.state.isFinal else { return }
        let topic = "queue.job_\(job.state.rawValue)"
        guard events.subscribes(plugin.name, to: topic) else { return }
        var data: JSONValue = ["job_id": .string(job.id), "queue": .string(job.shortQueue), "kind": .string(job.kind),
                               "state": .string(job.state.rawValue), "attempt": .integer(Int64(job.attempt))]
        if let owner = job.ownerID { data["owner_id"] = .string(owner) }
        if let error = job.error, job.state != .completed { data["error"] = .string(error) }
        try events.publishAction(topic: topic, userID: nil, data: data, txn: handle, publisher: "kernel", onlyTo: plugin.name)
    }

    // MARK: Transactions

    /// Run `body` in `txn` when the plugin passed one, else in a transaction of the kernel's,
    /// registered in the transaction table so change handlers can write in it.
    ///
    /// The kernel's own transaction is READ COMMITTED (on PostgreSQL; SQLite has one writer)
    /// for a transition: its first write is the conditional UPDATE of the job's row, so the
    /// row lock orders it with every other change of that job, and the change handler runs
    /// behind that lock. Serializable would add nothing there but conflicts: every lease reads
    /// the queue's busiest index range, which every enqueue writes. An enqueue asks for
    /// `.serializable`: its unique-key and per-owner checks read, then insert.
    func inTransaction<T>(_ txn: UInt64, _ isolation: Isolation = .readCommitted,
                          _ body: (any StorageTransaction, UInt64) throws -> T) throws -> T {
        try transactions.perform(txn, isolation: isolation) { handle in try body(transactions.get(handle), handle) }
    }

    // MARK: The kernel's workers

    private func run(kind: String, queue: String, concurrency: Int, plugin: LoadedPlugin) throws {
        guard plugin.manifest?.jobs.contains(where: { $0.kind == kind && $0.queue == queue && $0.worker }) == true else {
            throw PluginError(status: 400, code: "unknown_queue", detail: "The plugin '\(plugin.name)' declares no worker for '\(kind)' in '\(queue)'.")
        }
        guard (1...256).contains(concurrency) else { throw PluginError.invalid("concurrency", "must be 1 to 256.") }
        let runner = JobRunner(queue: self, plugin: plugin, kind: kind, queueName: "\(plugin.name).\(queue)", concurrency: concurrency)
        runners.withLock { $0.append(runner) }
        if started.withLock({ $0 }) { runner.start() }
        logger.info("jobs: \(concurrency) worker(s) for \(kind) in \(plugin.name).\(queue)")
    }

    /// Boot is done: start the workers registered so far (later ones start at once).
    func startWorkers() {
        let pending = started.withLock { s -> [JobRunner] in
            s = true
            return runners.withLock { $0 }
        }
        for runner in pending { runner.start() }
    }

    /// Wake the kernel's workers of `queue` once `handle` commits.
    func wakeAfterCommit(_ queue: String, handle: UInt64) {
        transactions.afterCommit(handle) { [weak self] in self?.wake(queue) }
    }

    func wake(_ queue: String) {
        for runner in runners.withLock({ $0 }) where runner.queueName == queue { runner.wake() }
    }

    /// How many threads the kernel runs per queue (the admin view).
    var workerThreads: [String: Int] {
        runners.withLock { $0.reduce(into: [:]) { $0[$1.queueName, default: 0] += $1.concurrency } }
    }

    /// Shutdown: the kernel's workers stop leasing, running work is told to stop, and what
    /// has not finished within `seconds` goes back to the queue with its attempt unspent.
    func drain(within seconds: Double) {
        draining.store(true, ordering: .releasing)
        let all = runners.withLock { $0 }
        let deadline = Date().addingTimeInterval(seconds)
        for runner in all { runner.stop() }
        for runner in all { runner.finish(by: deadline) }
    }

    // MARK: Errors

    func notFound(_ id: String) -> PluginError { .notFound("No job \(id).", code: "job_not_found") }

    func leaseError(_ job: JobRecord) -> PluginError {
        if job.state == .cancelled { return .conflict("The job was cancelled.", code: "job_cancelled") }
        return .conflict("This worker no longer holds the job (it is \(job.state.rawValue)).", code: "lease_lost")
    }
}
