import Foundation

/// A job as the kernel's queue holds it: where it stands, how many attempts it took, what
/// went wrong last. What ``JobQueue`` returns, and what a worker and a change handler see.
public struct JobInfo: Codable, Sendable, Equatable {
    /// Where a job stands. `queued` covers waiting for its time (`run_at`), for a retry and for
    /// a worker; `running` is leased to a worker; the other four are final.
    public enum State: String, Codable, Sendable, CaseIterable {
        case queued, running, completed, failed, timeout, cancelled

        /// True for the states a job never leaves.
        public var isFinal: Bool { self != .queued && self != .running }
    }

    /// The job's id (`job_…`), sortable by creation.
    public var id: String
    /// The queue within the plugin (`default`), without the plugin's prefix.
    public var queue: String
    /// Its kind (``JobArgs/kind``).
    public var kind: String
    /// The arguments as stored (see ``args(as:)``).
    public var args: JSONValue
    /// The user the job is for (``JobOptions/ownerID``).
    public var ownerId: String?
    /// Where it stands now.
    public var state: State
    /// Higher runs first (−100…100).
    public var priority: Int
    /// Not run before this instant (a retry's or a postponement's time, or the one asked for).
    public var runAt: Date
    /// Attempts made so far, the running one included.
    public var attempt: Int
    /// Attempts allowed before it fails for good.
    public var maxAttempts: Int
    /// Times it was given back without spending an attempt.
    public var postponements: Int
    /// The last progress the worker reported (0–1); `nil` until it reported any.
    public var progress: Double?
    /// The lease the running attempt holds; only the worker it was given to sees it.
    public var leaseId: String?
    /// Who holds it while running: `kernel` for the kernel's own workers, else the name the
    /// external worker leased it under.
    public var worker: String?
    /// What the worker completed it with, if anything.
    public var result: JSONValue?
    /// The last failure, kept when a retry follows.
    public var error: String?
    /// The key that makes it unique in its queue, if it has one.
    public var uniqueKey: String?
    /// The time limit of one attempt, in seconds.
    public var timeoutS: Double
    /// When it was enqueued.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// When the current (or last) attempt first reported progress or finished.
    public var startedAt: Date?
    /// When it reached its final state.
    public var finishedAt: Date?
    /// True when ``JobQueue/enqueue(_:options:in:)`` found the job by its unique key
    /// instead of adding one.
    public var duplicate: Bool?

    /// The arguments, decoded.
    public func args<Args: JobArgs>(as type: Args.Type) throws -> Args {
        try JSONValueDecoder.decode(Args.self, from: args)
    }
}
