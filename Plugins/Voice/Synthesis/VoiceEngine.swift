import Foundation
import Son1kPluginKit

/// Why an engine did not deliver.
enum VoiceEngineError: Error {
    /// The job may be tried again (`retryable`) or has failed for good.
    case failed(String, retryable: Bool)
    /// Not the job's fault (no provider account free): back to the queue, no attempt spent.
    case postponed(String, afterSeconds: Double)
}

/// A way of speaking text in a profile's voice. `synthesize` runs on a worker thread and
/// returns mono samples at their sample rate; the worker encodes and stores them.
protocol VoiceEngine: Sendable {
    var name: String { get }
    func synthesize(_ job: SynthesisJob, profile: Profile, progress: (Double) -> Void) throws -> (samples: [Float], rate: Int)
}
