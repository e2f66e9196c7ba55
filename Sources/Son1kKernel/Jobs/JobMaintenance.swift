import Foundation
import Son1kPluginKit
import Synchronization

/// The queue's housekeeping, on a thread of its own every `kernel.jobs.maintenance_interval_ms`:
/// attempts past their time limit end as `timeout`; jobs whose worker stopped sending
/// heartbeats go back to the queue (their attempt counted: the worker may have crashed on
/// them); finished jobs and delivered actions older than their retention are deleted, a
/// thousand at a time. With
/// several instances on one database, one of them does each round (``PeriodClaim``); each
/// step is idempotent anyway (conditional on the lease it saw), so an overlap is harmless.
final class JobMaintenance: Sendable {
    let queue: KernelQueue
    private let loop: RepeatingThread
    /// When this instance last tried to prune (once a minute).
    private let lastPrune = Mutex(Date.distantPast)

    init(queue: KernelQueue) {
        self.queue = queue
        loop = RepeatingThread(name: "son1k-jobs-maintenance", interval: Double(queue.settings.jobMaintenanceIntervalMs) / 1000)
    }

    func start() {
        loop.start(first: { [self] in recoverOrphans() }) { [self] in
            if claim("reap", every: Int64(queue.settings.jobMaintenanceIntervalMs)) { reap() }
            let due = lastPrune.withLock { last in
                guard Date().timeIntervalSince(last) > 60 else { return false }
                last = Date()
                return true
            }
            if due, claim("prune", every: 60_000) { prune() }
        }
    }

    func stop() { loop.stop() }

    /// Whether this instance does this round of `step` (another may have done it already).
    private func claim(_ step: String, every periodMs: Int64) -> Bool {
        do {
            return try PeriodClaim.take(owner: "kernel", name: "jobs.\(step)", periodMs: periodMs, now: queue.now, in: queue.storage)
        } catch {
            queue.logger.error("jobs: cannot claim the \(step) round: \(error)")
            return false
        }
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

    /// Finished jobs, and actions every subscriber received, past their retention: the tables
    /// that grow with use stay the size of what is still live.
    private func prune() {
        let before = queue.now - Int64(queue.settings.jobRetentionSeconds) * 1000
        do {
            while try queue.store.prune(finishedBefore: before, limit: 1000, in: queue.storage) == 1000 {}
        } catch {
            queue.logger.error("jobs: cannot prune finished jobs: \(error)")
        }
        let cutoff = Timestamp.string(Date(timeIntervalSinceNow: -Double(queue.settings.eventRetentionSeconds)))
        do {
            while try queue.events.prune(deliveredBefore: cutoff, limit: 1000) == 1000 {}
        } catch {
            queue.logger.error("events: cannot prune delivered actions: \(error)")
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
