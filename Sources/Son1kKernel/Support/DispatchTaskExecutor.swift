import Dispatch

/// A task executor on libdispatch threads of its own (a concurrent queue: a new thread when
/// all are busy), for async work that must progress while the cooperative pool's threads
/// are blocked.
final class DispatchTaskExecutor: TaskExecutor, @unchecked Sendable {
    let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label, attributes: .concurrent)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
