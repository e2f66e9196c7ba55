/// What the kernel announces when one of a plugin's jobs ends — to that plugin alone, when it
/// subscribes (`r.onAction(.jobFailed) { event, ctx in … }`). Delivered after the change
/// committed, at least once, like every action.
public struct JobEvent: Codable, Sendable {
    /// The job's id.
    public var jobId: String
    /// The queue within the plugin.
    public var queue: String
    /// The job's kind (``JobArgs/kind``).
    public var kind: String
    /// `completed`, `failed`, `timeout` or `cancelled`.
    public var state: String
    /// Attempts made, the last included.
    public var attempt: Int
    /// The user the job was for, if it had one.
    public var ownerId: String?
    /// Why it failed, timed out or was cancelled (the last error).
    public var error: String?
}

extension Topic where Payload == JobEvent {
    /// A job of the plugin's completed.
    public static let jobCompleted = Topic("queue.job_completed")
    /// A job failed for good: out of attempts, or a failure not worth retrying.
    public static let jobFailed = Topic("queue.job_failed")
    /// An attempt ran past the job's time limit; the job ended as `timeout`.
    public static let jobTimeout = Topic("queue.job_timeout")
    /// A job was cancelled before it finished.
    public static let jobCancelled = Topic("queue.job_cancelled")
}
