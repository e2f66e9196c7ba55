import Foundation
import Son1kMusicEngine
import Son1kPluginKit
import Synchronization

/// The in-process workers: threads of their own (rendering is CPU-bound and must not
/// occupy the HTTP threads), each leasing jobs through the same queue external workers
/// use, plus one maintenance thread that times out jobs and re-queues those of silent
/// workers.
final class BuiltinWorkers: Sendable {
    typealias Ctx = Context<GenerationPlugin.Config>

    private let ctx: Ctx
    private let engines: [String: any GenerationEngine]
    private let signal: JobSignal
    private let stopping = Atomic<Bool>(false)
    private let running = DispatchGroup()
    private let instance = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    /// The worker threads' identities, heartbeated by the maintenance thread.
    private let identities = Mutex<[WorkerIdentity]>([])

    init(ctx: Ctx, engines: [any GenerationEngine], signal: JobSignal) {
        self.ctx = ctx
        self.engines = Dictionary(engines.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.signal = signal
    }

    func start(count: Int) {
        for n in 0..<count {
            let identity = WorkerIdentity(principal: "builtin", id: "\(instance):\(n)", kind: "builtin")
            identities.withLock { $0.append(identity) }
            spawn("son1k-worker-\(n)") { [self] in work(as: identity) }
        }
        spawn("son1k-queue-maintenance") { [self] in maintain() }
    }

    /// Asks every thread to stop; a render in progress gives its job back to the queue.
    /// Waits a few seconds for that, so the database is still open when they do.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        signal.notify()
        _ = running.wait(timeout: .now() + 5)
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        running.enter()
        let thread = Thread { [running] in
            body()
            running.leave()
        }
        thread.name = name
        thread.start()
    }

    private func work(as identity: WorkerIdentity) {
        let queue = JobQueue(ctx: ctx)
        let names = Array(engines.keys).sorted()
        while !isStopping {
            do {
                let lease = try signal.poll(until: Date().addingTimeInterval(1)) { isStopping ? nil : try queue.lease(worker: identity, engines: names) }
                if let lease { run(lease, as: identity, queue: queue) }
            } catch {
                ctx.log.error("built-in worker \(identity.id): \(error)")
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    private func run(_ lease: JobLease, as identity: WorkerIdentity, queue: JobQueue) {
        guard let engine = engines[lease.engine] else { return }
        let started = Date()
        var reported = -1.0
        var lastReport = Date.distantPast
        var lost = false
        do {
            let output = try engine.render(lease.job) { fraction in
                if isStopping { return false }
                // Reports double as heartbeats: each tenth, and at least every few seconds.
                if fraction - reported >= 0.1 || Date().timeIntervalSince(lastReport) > min(5, ctx.config.heartbeatIntervalS) {
                    do {
                        _ = try queue.progress(lease.id, lease: lease.leaseId, fraction: fraction, worker: identity)
                        reported = fraction
                        lastReport = Date()
                    } catch {
                        lost = true
                        return false
                    }
                }
                return true
            }
            _ = try queue.complete(lease.id, lease: lease.leaseId, audio: output.audio, contentType: output.contentType,
                                   details: output.details, worker: identity)
            ctx.metrics.observe("render_seconds", Date().timeIntervalSince(started), labels: ["engine": engine.name, "quality": lease.job.quality.rawValue])
            ctx.metrics.increment("jobs_completed", labels: ["engine": engine.name])
        } catch EngineError.cancelled {
            if !lost { try? queue.release(lease.id, lease: lease.leaseId) }
        } catch EngineError.postponed(let reason, let seconds) {
            ctx.metrics.increment("jobs_postponed", labels: ["engine": engine.name])
            _ = try? queue.postpone(lease.id, lease: lease.leaseId, reason: reason, afterSeconds: seconds, worker: identity)
        } catch EngineError.failed(let message, let retryable) {
            ctx.metrics.increment("jobs_failed", labels: ["engine": engine.name])
            _ = try? queue.fail(lease.id, lease: lease.leaseId, error: message, retryable: retryable, worker: identity)
        } catch let error as PluginError where error.status == 409 || error.status == 404 {
            // Cancelled or taken over while finishing: nothing to record.
        } catch {
            _ = try? queue.fail(lease.id, lease: lease.leaseId, error: "\(error)", retryable: true, worker: identity)
        }
    }

    /// Heartbeats for the worker threads, then the reaper. A built-in worker lives as long as
    /// this process, so its liveness is this thread's: a render starved of CPU (its progress
    /// reports late) is not mistaken for a dead worker. A render that hangs still ends at the
    /// job's own timeout.
    private func maintain() {
        let queue = JobQueue(ctx: ctx)
        let names = Array(engines.keys).sorted()
        let tick = min(5, max(0.2, Double(min(ctx.config.heartbeatTimeoutS, ctx.config.timeoutS)) / 4))
        while !isStopping {
            do {
                for identity in identities.withLock({ $0 }) { _ = try queue.heartbeat(identity, engines: names, holding: []) }
                if try queue.reap() > 0 { signal.notify() }
            } catch {
                ctx.log.error("queue maintenance: \(error)")
            }
            let next = Date().addingTimeInterval(tick)
            while !isStopping, Date() < next { Thread.sleep(forTimeInterval: min(0.2, tick)) }
        }
    }
}
