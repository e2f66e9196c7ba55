import CSon1kABI
import Foundation

/// The kernel's job queue, as one plugin sees it: `ctx.jobs`.
///
/// Enqueue inside the transaction of the request that asks for the work, so the job exists
/// exactly when the request's writes do; the kernel then runs it on a worker registered with
/// ``Registry/worker(_:concurrency:_:)`` (or hands it to an external worker that leases it
/// through one of your routes). Every job is the plugin's own: ids of other plugins' jobs are
/// not found.
///
/// ```swift
/// try ctx.db.transaction { tx in
///     try tx.exec("INSERT INTO songs_requests (id) VALUES (?)", [.text(id)])
///     try ctx.jobs.enqueue(RenderJob(songID: id), options: .init(ownerID: user), in: tx)
/// }
/// ```
public struct JobQueue: Sendable {
    let host: HostBridge
    let txn: UInt64

    /// Add a job (or, with a ``JobOptions/uniqueKey`` already used, find the job that has
    /// it: `duplicate` is then true). Inside `tx` the job exists only once `tx` commits.
    @discardableResult
    public func enqueue<Args: JobArgs>(_ args: Args, options: JobOptions = .init(), in tx: Database? = nil) throws -> JobInfo {
        var request = options.fields()
        request["queue"] = .string(options.queue ?? Args.queue)
        request["kind"] = .string(Args.kind)
        request["args"] = try JSONValue.from(args)
        return try call("enqueue", .object(request), in: tx)
    }

    /// Add many jobs of one kind with the same options in one call — for a batch, far cheaper
    /// than one call each. Returns their ids in order. A unique key names one job, so it is
    /// refused here; a per-owner limit counts the whole batch.
    @discardableResult
    public func enqueue<Args: JobArgs>(_ batch: [Args], options: JobOptions = .init(), in tx: Database? = nil) throws -> [String] {
        var request = options.fields()
        request["queue"] = .string(options.queue ?? Args.queue)
        request["kind"] = .string(Args.kind)
        request["args"] = .array(try batch.map { try JSONValue.from($0) })
        let answer: BatchAnswer = try call("enqueue_many", .object(request), in: tx)
        return answer.ids
    }

    /// One of the plugin's jobs, or nil.
    public func get(_ id: String, in tx: Database? = nil) throws -> JobInfo? {
        do { return try call("get", ["id": .string(id)], in: tx) } catch let error as PluginError where error.status == 404 { return nil }
    }

    /// Cancel a job that has not finished: a queued one never runs; a running one's worker
    /// learns it at its next report (``Job/progress(_:)`` throws) and its completion is refused.
    /// 409 `not_cancellable` when it already finished.
    @discardableResult
    public func cancel(_ id: String, in tx: Database? = nil) throws -> JobInfo {
        try call("cancel", ["id": .string(id)], in: tx)
    }

    /// A page of the plugin's jobs, newest first, filtered by queue, owner and states.
    public func list(queue: String? = nil, ownerID: String? = nil, states: [JobInfo.State] = [], limit: Int = 50,
                     cursor: String? = nil) throws -> JobPage {
        var request: [String: JSONValue] = ["limit": .integer(Int64(limit)), "states": .array(states.map { .string($0.rawValue) })]
        request["queue"] = queue.map { .string($0) }
        request["owner_id"] = ownerID.map { .string($0) }
        request["cursor"] = cursor.map { .string($0) }
        return try call("list", .object(request))
    }

    // MARK: External workers

    /// Lease up to `limit` due jobs of `queues` (and `kinds`, when given) for a worker outside
    /// the kernel — one that leases through a route of yours. Each job comes back `running`,
    /// with the `leaseId` every report on it must carry. Two workers never lease one job.
    public func lease(queues: [String], kinds: [String]? = nil, worker: String, limit: Int = 1, in tx: Database? = nil) throws -> [JobInfo] {
        var request: [String: JSONValue] = ["queues": .array(queues.map { .string($0) }), "worker": .string(worker),
                                            "limit": .integer(Int64(limit))]
        request["kinds"] = kinds.map { .array($0.map { .string($0) }) }
        let answer: LeaseAnswer = try call("lease", .object(request), in: tx)
        return answer.jobs
    }

    /// `worker` is alive: its running jobs among `jobIDs` keep their leases. Returns the ids
    /// it no longer holds (cancelled, timed out, lost to another worker): stop working on them.
    public func heartbeat(worker: String, jobIDs: [String], in tx: Database? = nil) throws -> [String] {
        let answer: HeartbeatAnswer = try call("heartbeat", ["worker": .string(worker), "job_ids": .array(jobIDs.map { .string($0) })], in: tx)
        return answer.lost
    }

    /// Report progress (0–1) on a leased job; also a heartbeat. 409 `lease_lost` or
    /// `job_cancelled` tells the worker to stop.
    @discardableResult
    public func progress(_ id: String, leaseID: String, _ fraction: Double, in tx: Database? = nil) throws -> JobInfo {
        try call("progress", ["id": .string(id), "lease_id": .string(leaseID), "progress": .number(fraction)], in: tx)
    }

    /// Complete a leased job, with an optional result kept with it. Inside `tx`, the job is
    /// completed only if `tx` commits: write the work's effect in the same transaction and it
    /// happens once per job, however often the job ran.
    @discardableResult
    public func complete(_ id: String, leaseID: String, result: JSONValue? = nil, in tx: Database? = nil) throws -> JobInfo {
        var request: [String: JSONValue] = ["id": .string(id), "lease_id": .string(leaseID)]
        request["result"] = result
        return try call("complete", .object(request), in: tx)
    }

    /// End a leased attempt as failed: back to the queue after the backoff while attempts
    /// remain and `retryable`, otherwise `failed` for good.
    @discardableResult
    public func fail(_ id: String, leaseID: String, error: String, retryable: Bool = true, in tx: Database? = nil) throws -> JobInfo {
        try call("fail", ["id": .string(id), "lease_id": .string(leaseID), "error": .string(error), "retryable": .bool(retryable)], in: tx)
    }

    /// Give a leased job back for `afterSeconds` without spending the attempt.
    @discardableResult
    public func postpone(_ id: String, leaseID: String, reason: String, afterSeconds: Double, in tx: Database? = nil) throws -> JobInfo {
        try call("postpone", ["id": .string(id), "lease_id": .string(leaseID), "reason": .string(reason), "after_s": .number(afterSeconds)], in: tx)
    }

    /// Give a leased job back untouched (the worker is shutting down): queued again at once,
    /// the attempt not counted.
    @discardableResult
    public func release(_ id: String, leaseID: String, in tx: Database? = nil) throws -> JobInfo {
        try call("release", ["id": .string(id), "lease_id": .string(leaseID)], in: tx)
    }

    // MARK: Plumbing

    func call<Answer: Decodable>(_ op: String, _ request: JSONValue, in tx: Database? = nil) throws -> Answer {
        try JSONValueDecoder.decode(Answer.self, from: JSONValue.parse(raw(op, request, txn: tx?.txn ?? txn)))
    }

    func raw(_ op: String, _ request: JSONValue, txn: UInt64) throws -> [UInt8] {
        guard let queue = host.function(\.queue) else {
            throw PluginError(status: 501, code: "queue_unavailable", detail: "This kernel has no job queue (it predates ABI 1.3).")
        }
        let text = request.jsonString
        return try host.call { ctx, out in
            withUTF8Pointer(op) { o, ol in
                withUTF8Pointer(text) { r, rl in queue(ctx, txn, o, ol, r, rl, out) }
            }
        }
    }

    private struct LeaseAnswer: Decodable { var jobs: [JobInfo] }
    private struct BatchAnswer: Decodable { var ids: [String] }
    private struct HeartbeatAnswer: Decodable { var lost: [String] }
}

/// A page of jobs, newest first; pass `nextCursor` back for the next one.
public struct JobPage: Codable, Sendable {
    /// This page's jobs.
    public var jobs: [JobInfo]
    /// The cursor of the next page; nil on the last.
    public var nextCursor: String?
}
