import Foundation
import Son1kPluginKit
import Synchronization

/// The in-process synthesis workers: threads of their own (synthesis is CPU work and must
/// not hold the HTTP threads), each leasing jobs from ``VoiceQueue``; one also reaps
/// attempts past their time limit.
final class VoiceWorkers: Sendable {
    private let ctx: Context<VoicePlugin.Config>
    private let engines: [String: any VoiceEngine]
    private let stopping = Atomic<Bool>(false)
    private let wake = NSCondition()
    private let running = DispatchGroup()

    init(ctx: Context<VoicePlugin.Config>, engines: [any VoiceEngine]) {
        self.ctx = ctx
        self.engines = Dictionary(engines.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    func start(count: Int) {
        for n in 0..<count {
            running.enter()
            let thread = Thread { [self] in
                work(reaping: n == 0)
                running.leave()
            }
            thread.name = "son1k-voice-\(n)"
            thread.start()
        }
    }

    /// A job was queued: wake a waiting worker now rather than at its next poll.
    func notify() {
        wake.lock()
        wake.broadcast()
        wake.unlock()
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        notify()
        _ = running.wait(timeout: .now() + 5)
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    private func work(reaping: Bool) {
        let queue = VoiceQueue(ctx: ctx)
        let names = engines.keys.sorted()
        var lastReap = Date.distantPast
        while !isStopping {
            do {
                if reaping, Date().timeIntervalSince(lastReap) > 5 {
                    try queue.reap()
                    lastReap = Date()
                }
                if let (row, lease) = try queue.lease(engines: names) {
                    run(row, lease: lease, queue: queue)
                    continue
                }
            } catch {
                ctx.log.error("voice worker: \(error)")
            }
            wake.lock()
            _ = wake.wait(until: Date().addingTimeInterval(0.5))
            wake.unlock()
        }
    }

    private func run(_ row: VoiceJobRow, lease: String, queue: VoiceQueue) {
        let started = Date()
        do {
            let job = try row.job
            guard let engine = engines[row.engine] else { throw VoiceEngineError.failed("No engine \(row.engine) here.", retryable: false) }
            guard let profile = try Profiles(ctx: ctx).find(row.profileId, for: row.userId) else {
                throw VoiceEngineError.failed("The voice profile was deleted.", retryable: false)
            }
            let (samples, rate) = try engine.synthesize(job, profile: profile) { try? queue.progress(row, lease: lease, $0) }
            let format = AudioFormat(rawValue: job.format) ?? .wav
            let audio = try format.encode(samples, rate: rate)
            let seconds = Date().timeIntervalSince(started)
            let spoken = Double(samples.count) / Double(rate)
            let measured = VoiceFeatures.measure(samples, rate: rate)?.view
            let output = SynthesisOutput(durationS: (spoken * 100).rounded() / 100, renderS: (seconds * 1000).rounded() / 1000, sampleRate: rate,
                                         realtimeFactor: (spoken / max(seconds, 0.001) * 10).rounded() / 10, medianF0Hz: measured?.medianF0Hz,
                                         meanF0Hz: measured?.meanF0Hz, speakingRate: measured?.speakingRate)
            try queue.complete(row, lease: lease, audio: audio, contentType: format.contentType, output: output)
            ctx.metrics.observe("synthesis_seconds", seconds, labels: ["engine": row.engine])
        } catch VoiceEngineError.postponed(let reason, let after) {
            try? queue.postpone(row, lease: lease, reason: reason, afterSeconds: after)
        } catch VoiceEngineError.failed(let reason, let retryable) {
            try? queue.fail(row, lease: lease, error: reason, retryable: retryable)
        } catch let error as PluginError {
            try? queue.fail(row, lease: lease, error: error.detail, retryable: error.status >= 500)
        } catch {
            try? queue.fail(row, lease: lease, error: "\(error)", retryable: true)
        }
    }
}
