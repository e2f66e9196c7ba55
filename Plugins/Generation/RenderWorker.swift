import Foundation
import Son1kMusicEngine
import Son1kPluginKit

/// Renders one generation on a kernel worker thread (rendering is CPU-bound: never on the
/// HTTP threads). Progress reports go to the queue each tenth and at least twice a second,
/// which is also how the render learns to stop — cancelled, timed out, or the server shutting
/// down (the kernel then gives the job back with its attempt unspent). The audio and the
/// completion commit together.
struct RenderWorker {
    let ctx: Context<GenerationPlugin.Config>
    let engines: [String: any GenerationEngine]

    func run(_ job: Job<RenderJob>) throws {
        let generations = Generations(ctx: ctx)
        guard let row = try generations.get(job.args.generationId) else {
            throw JobError.fail("The generation \(job.args.generationId) no longer exists.", retryable: false)
        }
        guard let engine = engines[row.engine] else { throw JobError.fail("No engine \(row.engine) in this process.", retryable: false) }
        let request = try row.job
        let started = Date()
        var reported = -1.0
        var lastReport = Date.distantPast
        var stopped: (any Error)?
        let output: EngineOutput
        do {
            output = try engine.render(request) { fraction in
                guard fraction - reported >= 0.1 || Date().timeIntervalSince(lastReport) >= 0.5 else { return true }
                do {
                    try job.progress(fraction)
                    reported = fraction
                    lastReport = Date()
                    return true
                } catch {
                    stopped = error
                    return false
                }
            }
        } catch EngineError.cancelled {
            throw stopped ?? JobError.stopped("The render was stopped.")
        } catch EngineError.postponed(let reason, let seconds) {
            ctx.metrics.increment("jobs_postponed", labels: ["engine": engine.name])
            throw JobError.postpone(after: seconds, reason: reason)
        } catch EngineError.failed(let message, let retryable) {
            ctx.metrics.increment("jobs_failed", labels: ["engine": engine.name])
            throw JobError.fail(message, retryable: retryable)
        }
        guard let lease = job.info.leaseId else { throw JobError.stopped("The job has no lease.") }
        do {
            _ = try generations.complete(row.id, lease: lease, audio: output.audio, contentType: output.contentType, details: output.details, worker: nil)
        } catch let error as PluginError where error.status == 409 || error.status == 404 {
            throw JobError.stopped(error.detail)
        }
        ctx.metrics.observe("render_seconds", Date().timeIntervalSince(started), labels: ["engine": engine.name, "quality": request.quality.rawValue])
        ctx.metrics.increment("jobs_completed", labels: ["engine": engine.name])
    }
}
