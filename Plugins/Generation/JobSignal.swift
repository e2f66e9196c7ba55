import Foundation

/// Wakes waiting workers (built-in threads and long-polling external ones) when a job may
/// have become available in this process. Other processes sharing the database are not
/// woken; waiters also re-check at least every second, which covers them and backoffs.
final class JobSignal: @unchecked Sendable {
    // NSCondition is thread-safe; `generation` is only touched while it is locked.
    private let condition = NSCondition()
    private var generation: UInt64 = 0
    private var closed = false

    var current: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    func notify() {
        condition.lock()
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The process is shutting down: every waiter returns now with nothing, and so does every
    /// later `poll`, so no new job is leased here.
    func close() {
        condition.lock()
        closed = true
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }

    var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed
    }

    /// Blocks until `notify` is called after `seen` was read, or until `deadline`.
    func wait(after seen: UInt64, until deadline: Date) {
        condition.lock()
        while generation == seen, Date() < deadline { _ = condition.wait(until: deadline) }
        condition.unlock()
    }

    /// Calls `attempt` until it returns a value or `deadline` passes, sleeping in between
    /// until woken (at most a second at a time). Returns nil at the deadline, or at once
    /// once closed.
    func poll<T>(until deadline: Date, _ attempt: () throws -> T?) rethrows -> T? {
        while true {
            let seen = current
            if isClosed { return nil }
            if let value = try attempt() { return value }
            let now = Date()
            if now >= deadline { return nil }
            wait(after: seen, until: min(deadline, now.addingTimeInterval(1)))
        }
    }
}
