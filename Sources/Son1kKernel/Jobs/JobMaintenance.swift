import Foundation
import Son1kPluginKit
import Synchronization

/// The queue's housekeeping, on a thread of its own every `kernel.jobs.maintenance_interval_ms`:
/// attempts past their time limit end as `timeout`; jobs whose worker stopped sending
/// heartbeats go back to the queue (their attempt counted: the worker may have crashed on
/// them); finished jobs older than the retention are deleted, a thousand at a time. Each
/// step is idempotent (conditional on the lease it saw), so running it in several instances
/// at once is safe, only wasteful.
final class JobMaintenance: Sendable {
    let queue: KernelQueue
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchGroup()

    init(queue: KernelQueue) { self.queue = queue }

    func start() {
        done.enter()
        let thread = Thread { [self] in
            recoverOrphans()
            var lastPrune = Date.distantPast
            while !stopping.load(ordering: .acquiring) {
                reap()
                if Date().timeIntervalSince(lastPrune) > 60 {
                    prune()
                    lastPrune = Date()
                }
                Thread.sleep(forTimeInterval: Double(queue.settings.jobMaintenanceIntervalMs) / 1000)
            }
            done.leave()
        }
        thread.name = "son1k-jobs-maintenance"
        thread.start()
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        _ = done.wait(timeout: .now() + 2)
    }

    /// Ends overdue attempts and re-queues the jobs of silent workers. Returns how many changed.
    @discardableResult
    func reap() -> Int {
        var changed = 0
        do {
            let (timedOut, silent) = try queue.store.overdue(now: queue.now, in: queue.storage)
            for job in timedOut {
                changed += apply(job) { tx in
                    try self.queue.store.end(job.id, lease: job.leaseID ?? "", as: .timeout,
                                             error: "The attempt ran longer than \(Self.seconds(job.timeoutMs)) s.", now: self.queue.now, in: tx)
                        .map { ($0, .timeout) }
                }
            }
            for job in silent { changed += lose(job, because: "The worker \(job.worker ?? "?") stopped sending heartbeats.") }
        } catch {
            queue.logger.error("jobs: the reaper cannot read the queue: \(error)")
        }
        return changed
    }

    /// On SQLite one process serves the database, so jobs the kernel's workers held in an
    /// earlier start died with it: back to the queue now rather than after their heartbeat
    /// timeout (the attempt counts, as for any worker that died on its job).
    private func recoverOrphans() {
        guard queue.storage.dialect == "sqlite" else { return }
        do {
            let orphans = try queue.store.orphans(notOf: queue.boot, in: queue.storage)
            for job in orphans { _ = lose(job, because: "The server stopped while the attempt ran.") }
            if !orphans.isEmpty { queue.logger.notice("jobs: \(orphans.count) job(s) the previous start was running went back to the queue") }
        } catch {
            queue.logger.error("jobs: cannot recover the previous start's jobs: \(error)")
        }
    }

    /// A job whose worker is gone: back to the queue while attempts remain, else failed.
    private func lose(_ job: JobRecord, because message: String) -> Int {
        apply(job) { tx in
            let now = self.queue.now
            if job.attempt < job.maxAttempts {
                return try self.queue.store.requeue(job.id, lease: job.leaseID ?? "", runAt: now, error: message, refund: false,
                                                    postponed: false, now: now, in: tx).map { ($0, .lost) }
            }
            return try self.queue.store.end(job.id, lease: job.leaseID ?? "", as: .failed, error: message, now: now, in: tx).map { ($0, .failed) }
        }
    }

    private func prune() {
        let before = queue.now - Int64(queue.settings.jobRetentionSeconds) * 1000
        do {
            while try queue.store.prune(finishedBefore: before, limit: 1000, in: queue.storage) == 1000 {}
        } catch {
            queue.logger.error("jobs: cannot prune finished jobs: \(error)")
        }
    }

    /// One job's change in a transaction of its own, with its change handler; 1 when it changed
    /// (nil from `change`: its lease had moved on, nothing to do).
    private func apply(_ job: JobRecord, _ change: (any StorageTransaction) throws -> (JobRecord, JobChangeCause)?) -> Int {
        do {
            return try queue.inTransaction(0) { tx, handle in
                guard let (changed, cause) = try change(tx) else { return 0 }
                try queue.changed(changed, cause, handle: handle)
                if changed.state == .queued { queue.wakeAfterCommit(changed.queue, handle: handle) }
                return 1
            }
        } catch {
            queue.logger.error("jobs: cannot update \(job.id): \(error)")
            return 0
        }
    }

    private static func seconds(_ ms: Int64) -> String {
        ms % 1000 == 0 ? "\(ms / 1000)" : String(format: "%.1f", Double(ms) / 1000)
    }
}
