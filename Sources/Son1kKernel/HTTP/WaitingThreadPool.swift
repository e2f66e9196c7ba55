import Dispatch
import Foundation
import Synchronization

/// Threads for handlers that spend most of their time waiting: a long poll, a group commit
/// that waits for its batch, a slow upstream service.
///
/// The handler queue (``HandlerExecutor``) runs about one thread per core: ideal for work that
/// keeps its CPU, but libdispatch cannot see that a thread blocked in a semaphore is idle, so
/// a few dozen waiting handlers hold its threads while the work they wait for queues behind
/// them (measured: a group commit batched 1.5 requests at a time there, 7 here). This pool
/// gives every job a thread at once: an idle one when there is one, a new one otherwise.
/// Threads idle for `idleTimeout` seconds exit, so a burst does not leave hundreds behind.
final class WaitingThreadPool: Sendable {
    /// One pooled thread: its next job is set, then `wake` is signalled.
    private final class Worker: @unchecked Sendable {
        let wake = DispatchSemaphore(value: 0)
        /// Written by the pool before `wake.signal()`, read by the thread after `wake.wait()`.
        var job: (@Sendable () -> Void)?
    }

    private struct State {
        var idle: [Worker] = []
        var threads = 0
    }
    private let state = Mutex(State())
    private let idleTimeout: Double
    private let name: String

    init(name: String, idleTimeout: Double = 30) {
        self.name = name
        self.idleTimeout = idleTimeout
    }

    /// Threads alive now, busy or idle.
    var threadCount: Int { state.withLock { $0.threads } }
    /// Threads waiting for a job.
    var idleCount: Int { state.withLock { $0.idle.count } }

    /// Runs `job` on a pool thread, starting one when none is idle.
    func run(_ job: @escaping @Sendable () -> Void) {
        let idle = state.withLock { s -> Worker? in
            if let w = s.idle.popLast() { return w }
            s.threads += 1
            return nil
        }
        if let idle {
            idle.job = job
            idle.wake.signal()
            return
        }
        let worker = Worker()
        worker.job = job
        let thread = Thread { [self] in loop(worker) }
        thread.name = name
        thread.start()
    }

    private func loop(_ worker: Worker) {
        while true {
            if let job = worker.job {
                worker.job = nil
                job()
            }
            state.withLock { $0.idle.append(worker) }
            if worker.wake.wait(timeout: .now() + idleTimeout) == .success { continue }
            // Timed out: leave, unless `run` took this worker in the meantime, in which case its
            // job is on the way and the signal must be consumed.
            let leaves = state.withLock { s -> Bool in
                guard let i = s.idle.firstIndex(where: { $0 === worker }) else { return false }
                s.idle.remove(at: i)
                s.threads -= 1
                return true
            }
            if leaves { return }
            worker.wake.wait()
        }
    }
}
