/// A job as its worker receives it: the decoded arguments, the attempt, and the lease that
/// the worker's reports carry.
///
/// ```swift
/// r.worker(RenderJob.self, concurrency: 2) { job, ctx in
///     for part in 1...10 {
///         try render(part, of: job.args.songID)
///         try job.progress(Double(part) / 10)   // throws once the job is cancelled
///     }
/// }
/// ```
///
/// Returning completes the job; throwing ``JobError`` postpones or fails it, any other error
/// fails the attempt (retried with backoff while attempts remain).
public struct Job<Args: JobArgs>: Sendable {
    /// The job as leased: id, attempt, lease.
    public let info: JobInfo
    /// The arguments, decoded.
    public let args: Args
    let queue: JobQueue

    /// The job's id (`job_…`).
    public var id: String { info.id }
    /// 1 on the first attempt.
    public var attempt: Int { info.attempt }
    var leaseID: String { info.leaseId ?? "" }

    /// Report progress (0–1), which also keeps the lease alive. Throws
    /// ``JobError/stopped(_:)`` when the work should stop: the job was cancelled or timed out,
    /// or the kernel is shutting down (it then gives the job back to the queue).
    public func progress(_ fraction: Double) throws {
        do {
            try queue.progress(id, leaseID: leaseID, fraction)
        } catch let error as PluginError where error.status == 409 {
            throw JobError.stopped(error.detail)
        }
    }

    /// True when the work should stop (see ``progress(_:)``), without reporting progress.
    public var shouldStop: Bool {
        (try? queue.call("status", ["id": .string(id), "lease_id": .string(leaseID)]) as JobStopStatus)?.stop ?? true
    }

    /// Complete the job inside `tx`, with an optional result: the work's writes in `tx` and
    /// the completion then commit together, so they happen once per job however often it ran.
    /// Throws 409 `lease_lost` when another attempt took over (roll `tx` back).
    public func complete(result: JSONValue? = nil, in tx: Database) throws {
        try queue.complete(id, leaseID: leaseID, result: result, in: tx)
    }
}

/// A change of one of the plugin's jobs, handed to ``Registry/onJobChange(_:_:)`` inside the
/// transaction that made it.
public struct JobChange<Args: JobArgs>: Sendable {
    /// Why the job changed.
    public typealias Cause = JobChangeCause

    /// What happened.
    public let cause: Cause
    /// The job after the change.
    public let job: JobInfo
    /// The job's arguments, decoded.
    public let args: Args
}

/// Why a job changed: what ``JobChange`` reports.
public enum JobChangeCause: String, Codable, Sendable {
    case enqueued, leased, progress, completed, retrying, failed, timeout, cancelled, released, postponed, lost
}

/// The `status` operation's answer.
struct JobStopStatus: Decodable {
    var stop: Bool
}
