/// What a worker throws to end an attempt otherwise than by finishing it. Any other error
/// fails the attempt and is retried (a ``PluginError`` below 500 is not: retrying a client's
/// mistake cannot help).
public enum JobError: Error, Sendable {
    /// Give the job back to the queue for `after` seconds without spending the attempt
    /// (the work could not start: an upstream account resting, a rate limit). After the
    /// job's `max_postponements` it fails.
    case postpone(after: Double, reason: String)
    /// End the attempt as failed; retried with backoff while attempts remain and `retryable`.
    case fail(String, retryable: Bool)
    /// Stop: the job was cancelled, its lease was lost, or the kernel is shutting down
    /// (``Job/progress(_:)`` throws it). The kernel records nothing more for this attempt.
    case stopped(String)
}
