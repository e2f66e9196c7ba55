/// What became of one attempt, as a worker's plugin tells the kernel.
package enum JobOutcome: Sendable, Equatable {
    /// The work is done: the kernel completes the job (unless the worker already did).
    case done
    case failed(String, retryable: Bool)
    case postponed(String, after: Double)
    /// The worker stopped because it was told to (cancelled, lease lost, shutting down).
    case stopped(String)

    /// The answer `handle_job` writes for it; nil for `done` (an empty answer).
    package var json: JSONValue? {
        switch self {
        case .done: return nil
        case .failed(let error, let retryable): return ["outcome": "failed", "error": .string(error), "retryable": .bool(retryable)]
        case .postponed(let reason, let after): return ["outcome": "postponed", "error": .string(reason), "after_s": .number(after)]
        case .stopped(let reason): return ["outcome": "stopped", "error": .string(reason)]
        }
    }

    /// Read back what `json` wrote (the kernel's side); an unreadable answer is a retryable failure.
    package init(answer: JSONValue?) {
        guard let answer else { self = .done; return }
        let error = answer["error"].string ?? "the worker failed"
        switch answer["outcome"].string {
        case "postponed": self = .postponed(error, after: answer["after_s"].double ?? 0)
        case "stopped": self = .stopped(error)
        case "failed": self = .failed(error, retryable: answer["retryable"].bool ?? true)
        default: self = .failed(error, retryable: true)
        }
    }
}
