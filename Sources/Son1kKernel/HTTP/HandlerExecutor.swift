import Foundation

/// Runs the HTTP server's tasks on libdispatch threads that may block.
///
/// Plugin handlers block (database, outbound HTTP), which Swift's cooperative pool (one
/// thread per core) must never do. The server runs with this executor as its task-executor
/// preference, which every connection task inherits, so a request is handled on one of these
/// threads from the start and calling a plugin needs no thread hop: a plugin route costs the
/// same number of thread switches as a kernel route.
final class HandlerExecutor: TaskExecutor, @unchecked Sendable {
    /// libdispatch overcommit threads: reused while hot, a new one when all are busy or blocked.
    let queue = DispatchQueue(label: "son1k.handlers", qos: .userInitiated, attributes: .concurrent)

    /// Where routes declared `may_wait` run (see ``WaitingThreadPool``).
    let waiting = WaitingThreadPool(name: "son1k.waiting")

    private static let marker: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async {
            pthread_setspecific(Self.marker, UnsafeRawPointer(bitPattern: 1))
            job.runSynchronously(on: self.asUnownedTaskExecutor())
            pthread_setspecific(Self.marker, nil)
        }
    }

    /// Run `body` on a thread of its own from the waiting pool, for a handler that may wait
    /// long: this task suspends meanwhile, and the handler threads stay free for the rest.
    func runWaiting<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            waiting.run {
                pthread_setspecific(Self.marker, UnsafeRawPointer(bitPattern: 1))
                continuation.resume(returning: body())
                pthread_setspecific(Self.marker, nil)
            }
        }
    }

    /// True on a thread currently running one of this executor's jobs: blocking is fine here.
    static var isCurrent: Bool { pthread_getspecific(marker) != nil }

    /// Run blocking work where it may block: right here when already on a handler thread,
    /// otherwise on the handler queue.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        if Self.isCurrent { return body() }
        return await queue.run(body)
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if Self.isCurrent { return try body() }
        return try await queue.run(body)
    }
}
