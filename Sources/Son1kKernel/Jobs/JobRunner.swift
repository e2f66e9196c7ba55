import Foundation
import Son1kPluginKit
import Synchronization

/// The kernel's workers for one registration (a plugin's worker of one kind in one queue):
/// `concurrency` threads calling the plugin's `handle_job`, fed by one loop thread that
/// leases as many jobs as threads are free in one transaction, and settles the outcomes that
/// came back meanwhile in one transaction. Batching both ends is what lets a queue of short
/// jobs run at thousands per second instead of paying three commits per job.
///
/// Threads of their own, not the request handlers': a worker may compute for minutes.
final class JobRunner: @unchecked Sendable {
    let queue: KernelQueue
    let plugin: LoadedPlugin
    let kind: String
    /// `<plugin>.<queue>`.
    let queueName: String
    let concurrency: Int
    let worker: String

    // Jobs leased and not yet taken by a thread: guarded by `work`.
    private let work = NSCondition()
    private var ready: [JobRecord] = []
    // Outcomes to settle, and whether the loop was woken: guarded by `loopSignal`.
    private let loopSignal = NSCondition()
    private var outcomes: [(JobRecord, JobOutcome)] = []
    private var woken = false
    /// Jobs a thread is working on.
    private let busy = Atomic<Int>(0)
    /// A moving average of how long a job takes here, in microseconds (starts as "long").
    private let averageMicros = Atomic<Int>(1_000_000)
    private var averageSeconds: Double { Double(averageMicros.load(ordering: .relaxed)) / 1e6 }
    private let stopping = Atomic<Bool>(false)
    private let threads = DispatchGroup()
    private let loopDone = DispatchGroup()

    init(queue: KernelQueue, plugin: LoadedPlugin, kind: String, queueName: String, concurrency: Int) {
        self.queue = queue
        self.plugin = plugin
        self.kind = kind
        self.queueName = queueName
        self.concurrency = concurrency
        worker = queue.kernelWorker(for: plugin.name)
    }

    func start() {
        loopDone.enter()
        spawn("son1k-jobs-\(plugin.name)") { [self] in
            loop()
            loopDone.leave()
        }
        for n in 0..<concurrency {
            threads.enter()
            spawn("son1k-job-\(plugin.name)-\(n)") { [self] in
                runJobs()
                threads.leave()
            }
        }
    }

    /// A job may have become due: lease now rather than at the next poll.
    func wake() {
        loopSignal.lock()
        woken = true
        loopSignal.signal()
        loopSignal.unlock()
    }

    /// Stop leasing; threads finish the job in hand and take no other.
    func stop() {
        stopping.store(true, ordering: .releasing)
        work.lock()
        // Not started: they stay leased here until ``finish(by:)`` gives them back.
        ready.removeAll()
        work.broadcast()
        work.unlock()
        wake()
    }

    /// Wait until `deadline` for the work in hand, then give back to the queue (the attempt
    /// unspent) whatever this runner still holds.
    func finish(by deadline: Date) {
        _ = threads.wait(timeout: .now() + max(0, deadline.timeIntervalSinceNow))
        wake()
        _ = loopDone.wait(timeout: .now() + max(0.5, deadline.timeIntervalSinceNow))
        releaseHeld()
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }

    // MARK: The loop: settle, lease, heartbeat, sleep

    private func loop() {
        var lastHeartbeat = Date()
        while true {
            loopSignal.lock()
            let settled = outcomes
            outcomes.removeAll(keepingCapacity: true)
            loopSignal.unlock()
            if !settled.isEmpty { settle(settled) }
            if isStopping {
                if busy.load(ordering: .acquiring) == 0 && readyCount == 0 { return }
            } else {
                // Short jobs are leased ahead, many per transaction, so the threads never wait
                // for the next lease; long ones only as threads come free (a job leased ahead
                // would spend its time limit waiting, and deny it to other workers).
                let inFlight = busy.load(ordering: .acquiring) + readyCount
                let target = averageSeconds < 0.005 ? min(256, concurrency * 16) : concurrency
                let free = target - inFlight
                if free > 0, lease(free) == free { continue }
            }
            if Date().timeIntervalSince(lastHeartbeat) >= 1 {
                try? queue.store.heartbeatAll(worker: worker, now: queue.now, in: queue.storage)
                lastHeartbeat = Date()
            }
            loopSignal.lock()
            if outcomes.isEmpty && !woken { _ = loopSignal.wait(until: Date().addingTimeInterval(isStopping ? 0.05 : 0.25)) }
            woken = false
            loopSignal.unlock()
        }
    }

    private var readyCount: Int {
        work.lock()
        defer { work.unlock() }
        return ready.count
    }

    /// Lease up to `limit` jobs and hand them to the threads; returns how many came.
    private func lease(_ limit: Int) -> Int {
        do {
            let jobs = try queue.leaseJobs(queues: [queueName], kinds: [kind], worker: worker, limit: limit)
            guard !jobs.isEmpty else { return 0 }
            work.lock()
            ready.append(contentsOf: jobs)
            if jobs.count == 1 { work.signal() } else { work.broadcast() }
            work.unlock()
            return jobs.count
        } catch {
            queue.logger.error("jobs: cannot lease from \(queueName): \(error)")
            return 0
        }
    }

    /// Record outcomes: all in one transaction, or, when one of them fails there (a change
    /// handler refusing), each in its own so the others still count.
    private func settle(_ batch: [(JobRecord, JobOutcome)]) {
        let draining = queue.isDraining
        let apply = { (job: JobRecord, outcome: JobOutcome, tx: any StorageTransaction, handle: UInt64) throws in
            var outcome = outcome
            // Work cut short by the shutdown goes back to the queue, its attempt unspent.
            if draining, case .failed = outcome { outcome = .stopped("shutting down") }
            _ = try self.queue.settle(job, lease: job.leaseID ?? "", outcome, tx: tx, handle: handle)
        }
        do {
            try queue.inTransaction(0) { tx, handle in
                for (job, outcome) in batch { try apply(job, outcome, tx, handle) }
            }
        } catch {
            for (job, outcome) in batch {
                do {
                    try queue.inTransaction(0) { tx, handle in try apply(job, outcome, tx, handle) }
                } catch {
                    queue.logger.error("jobs: cannot record the outcome of \(job.id): \(error)")
                }
            }
        }
    }

    /// After the shutdown's wait: jobs still leased here go back to the queue.
    private func releaseHeld() {
        work.lock()
        ready.removeAll()
        work.unlock()
        do {
            let held = try queue.storage.query("SELECT \(JobRecord.columns) FROM kernel_jobs WHERE worker = ? AND state = 'running' AND queue = ?",
                                               [.text(worker), .text(queueName)]).map(JobRecord.init)
            for job in held {
                try queue.inTransaction(0) { tx, handle in
                    _ = try queue.settle(job, lease: job.leaseID ?? "", .stopped("shutting down"), tx: tx, handle: handle)
                }
            }
        } catch {
            queue.logger.error("jobs: cannot give back the jobs of \(queueName): \(error)")
        }
    }

    // MARK: The threads

    private func runJobs() {
        while true {
            work.lock()
            while ready.isEmpty && !isStopping { work.wait() }
            if isStopping || ready.isEmpty {
                work.unlock()
                return
            }
            let job = ready.removeFirst()
            busy.add(1, ordering: .acquiringAndReleasing)
            work.unlock()
            let envelope: JSONValue = ["phase": "run", "job": job.json(withLease: true)]
            let started = DispatchTime.now()
            let outcome = JobOutcome(answer: plugin.handleJob(envelope: envelope.bytes, txn: 0))
            let took = Int((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1000)
            let average = averageMicros.load(ordering: .relaxed)
            averageMicros.store(average + (took - average) / 8, ordering: .relaxed)
            loopSignal.lock()
            outcomes.append((job, outcome))
            busy.subtract(1, ordering: .acquiringAndReleasing)
            loopSignal.signal()
            loopSignal.unlock()
        }
    }
}
