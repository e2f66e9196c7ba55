import Dispatch
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Connections to PostgreSQL lent to the kernel's blocking threads.
///
/// The kernel's storage is synchronous: plugin handlers run on threads that may block, and a
/// plugin transaction spans several calls of the C ABI. postgres-nio's `PostgresClient` is the
/// pool (connects, keeps connections alive, replaces broken ones) and lends a connection for
/// the lifetime of an async closure; a ``Lease`` keeps that closure suspended while a blocking
/// thread uses the connection, and resumes it on ``Lease/release()``. Each statement then runs
/// with the connection's future-based `query` and a blocking wait: one hop to the connection's
/// event loop and back, never through Swift's cooperative pool.
///
/// A released lease is kept, still lent, in a list of idle ones, and the next ``lease(timeout:)``
/// takes it from there: a lease from the client costs a task, a hop to the pool's executor and
/// a thread wake-up, and the HTTP queue cycle takes some twenty per job. A lease whose
/// connection failed (or closed) goes back to the client, which replaces the connection.
final class PostgresPool: Sendable {
    let client: PostgresClient
    let name: String
    private let runner: Task<Void, Never>
    /// Leases released and ready to be lent again (last in, first out: the warmest first).
    private let idle = Mutex<[Lease]>([])
    private let closed = Atomic<Bool>(false)
    static let logger = Logger(label: "son1k.postgres")
    /// Where the pool's own tasks run. Not Swift's cooperative pool: its few threads may all
    /// be blocked in callers waiting for a lease (a test, a kernel task), and the pool's tasks
    /// are what would end that wait.
    static let executor = DispatchTaskExecutor(label: "son1k.postgres")

    init(configuration: PostgresClient.Configuration, name: String) {
        client = PostgresClient(configuration: configuration, backgroundLogger: Self.logger)
        self.name = name
        // Leases made before `run()` began work but warn in the log; wait until it is called.
        let running = DispatchSemaphore(value: 0)
        runner = Task.detached(executorPreference: Self.executor) { [client] in
            running.signal()
            await client.run()
        }
        running.wait()
    }

    /// A connection lent to the calling thread until ``Lease/release()``.
    final class Lease: @unchecked Sendable {
        let connection: PostgresConnection
        private let done: CheckedContinuation<Void, Never>
        private weak var pool: PostgresPool?
        private let lock = NSLock()
        // Guarded by `lock`.
        private var isReleased = false
        private var isBroken = false

        fileprivate init(_ connection: PostgresConnection, _ done: CheckedContinuation<Void, Never>, pool: PostgresPool) {
            self.connection = connection
            self.done = done
            self.pool = pool
        }

        /// Give the connection back: to the idle list when it is sound, else to the client
        /// (once; later calls do nothing).
        func release() {
            let (first, broken) = lock.withLock { () -> (Bool, Bool) in
                defer { isReleased = true }
                return (!isReleased, isBroken)
            }
            guard first else { return }
            if !broken, !connection.isClosed, let pool, pool.keep(self) { return }
            done.resume()
        }

        /// Lent again from the idle list.
        fileprivate func reopen() { lock.withLock { isReleased = false } }

        /// Back to the client for good (the pool closes, or the connection closed meanwhile).
        fileprivate func discard() { done.resume() }

        /// Run one statement and wait for all its rows. A failure other than the server's
        /// answer (a lost connection, a protocol error) marks the connection unfit for reuse.
        func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
            do {
                return try connection.query(query, logger: PostgresPool.logger).wait()
            } catch {
                if (error as? PSQLError)?.code != .server { lock.withLock { isBroken = true } }
                throw error
            }
        }
    }

    /// Keep a released lease for the next caller; false when the pool is closing.
    fileprivate func keep(_ lease: Lease) -> Bool {
        guard !closed.load(ordering: .acquiring) else { return false }
        idle.withLock { $0.append(lease) }
        return true
    }

    /// Hands the leased connection from the pool's task to the waiting thread; a thread that
    /// stopped waiting (timeout) leaves it `abandoned`, and a connection arriving then goes
    /// straight back.
    private final class Handoff: @unchecked Sendable {
        enum State { case waiting, delivered(Lease), failed(any Error), abandoned }
        private let condition = NSCondition()
        private var state = State.waiting
        let pool: PostgresPool
        init(pool: PostgresPool) { self.pool = pool }

        func deliver(_ connection: PostgresConnection, _ done: CheckedContinuation<Void, Never>) {
            condition.lock()
            defer { condition.unlock() }
            guard case .waiting = state else { done.resume(); return }
            state = .delivered(Lease(connection, done, pool: pool))
            condition.broadcast()
        }

        func fail(_ error: any Error) {
            condition.lock()
            defer { condition.unlock() }
            guard case .waiting = state else { return }
            state = .failed(error)
            condition.broadcast()
        }

        func wait(until deadline: Date) throws -> Lease? {
            condition.lock()
            defer { condition.unlock() }
            while true {
                switch state {
                case .delivered(let lease): return lease
                case .failed(let error): throw error
                case .abandoned: return nil
                case .waiting:
                    if !condition.wait(until: deadline) {
                        if case .waiting = state { state = .abandoned; return nil }
                    }
                }
            }
        }
    }

    /// Lease a connection, waiting at most `timeout` seconds for one (the pool may be
    /// connecting, or every connection lent); nil when none came in time.
    func lease(timeout: Double) throws -> Lease? {
        while let kept = idle.withLock({ $0.popLast() }) {
            if kept.connection.isClosed { kept.discard(); continue }
            kept.reopen()
            return kept
        }
        let handoff = Handoff(pool: self)
        let task = Task.detached(executorPreference: Self.executor) { [client] in
            do {
                try await client.withConnection { connection in
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in handoff.deliver(connection, done) }
                }
            } catch {
                handoff.fail(error)
            }
        }
        let lease = try handoff.wait(until: Date().addingTimeInterval(timeout))
        if lease == nil { task.cancel() }
        return lease
    }

    /// Stop the pool: open connections close, waiting leases fail.
    func close() {
        closed.store(true, ordering: .releasing)
        for lease in idle.withLock({ list in defer { list.removeAll() }; return list }) { lease.discard() }
        runner.cancel()
    }
}
