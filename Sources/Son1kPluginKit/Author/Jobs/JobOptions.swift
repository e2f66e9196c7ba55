import Foundation

/// How one job is to be run. Every field has a default; the kernel's defaults are those of
/// docs/PLUGINS.md "Jobs" (3 attempts, 5 minutes per attempt, backoff from 1 s).
public struct JobOptions: Sendable {
    /// The queue within the plugin; `nil` for the kind's own (``JobArgs/queue``).
    public var queue: String?
    /// The user the job is for: lists and limits per user use it.
    public var ownerID: String?
    /// Higher runs first (−100…100).
    public var priority: Int = 0
    /// Not before this instant (or after `delay` seconds).
    public var runAt: Date?
    /// Seconds from now before the job may run (instead of `runAt`).
    public var delay: Double?
    /// Attempts before the job fails for good.
    public var maxAttempts: Int?
    /// An attempt running longer than this ends the job as `timeout`.
    public var timeout: Double?
    /// A worker silent this long (no heartbeat, no progress) loses the job back to the queue.
    public var heartbeatTimeout: Double?
    /// The wait before the second attempt, in milliseconds; it doubles with each attempt
    /// (plus up to 10 % jitter, so retries of many jobs do not arrive together).
    public var backoffBaseMs: Int?
    /// Postponements (``JobError/postpone(after:reason:)``) before the job fails.
    public var maxPostponements: Int?
    /// Enqueueing again with the same key (in the same queue) returns the existing job instead
    /// of adding one, as long as that job is kept (finished jobs are pruned after the
    /// kernel's retention).
    public var uniqueKey: String?
    /// Refuse (429 `too_many_active_jobs`) when `ownerID` already has this many jobs queued or
    /// running in this plugin's queues. Counted in the enqueueing transaction, so exact under
    /// concurrency.
    public var maxActivePerOwner: Int?

    /// Options with the kernel's defaults for everything not given.
    public init(queue: String? = nil, ownerID: String? = nil, priority: Int = 0, runAt: Date? = nil, delay: Double? = nil,
                maxAttempts: Int? = nil, timeout: Double? = nil, heartbeatTimeout: Double? = nil, backoffBaseMs: Int? = nil,
                maxPostponements: Int? = nil, uniqueKey: String? = nil, maxActivePerOwner: Int? = nil) {
        self.queue = queue
        self.ownerID = ownerID
        self.priority = priority
        self.runAt = runAt
        self.delay = delay
        self.maxAttempts = maxAttempts
        self.timeout = timeout
        self.heartbeatTimeout = heartbeatTimeout
        self.backoffBaseMs = backoffBaseMs
        self.maxPostponements = maxPostponements
        self.uniqueKey = uniqueKey
        self.maxActivePerOwner = maxActivePerOwner
    }

    /// The request's fields besides queue, kind and args, as the kernel reads them.
    func fields() -> [String: JSONValue] {
        var f: [String: JSONValue] = ["priority": .integer(Int64(priority))]
        f["owner_id"] = ownerID.map { .string($0) }
        f["run_at_ms"] = runAt.map { .integer($0.epochMs) }
        f["delay_s"] = delay.map { .number($0) }
        f["max_attempts"] = maxAttempts.map { .integer(Int64($0)) }
        f["timeout_s"] = timeout.map { .number($0) }
        f["heartbeat_timeout_s"] = heartbeatTimeout.map { .number($0) }
        f["backoff_base_ms"] = backoffBaseMs.map { .integer(Int64($0)) }
        f["max_postponements"] = maxPostponements.map { .integer(Int64($0)) }
        f["unique_key"] = uniqueKey.map { .string($0) }
        f["max_active_per_owner"] = maxActivePerOwner.map { .integer(Int64($0)) }
        return f.compactMapValues { $0 }
    }
}
