import Dispatch
import Foundation
@testable import Son1kKernel
import Synchronization
import Testing

@Suite struct WaitingThreadPoolTests {
    /// Every job blocks until all of them have started: a pool that ran fewer at once than it
    /// was given (as a per-core queue does) would leave the last ones waiting forever.
    @Test func everyJobGetsAThreadAtOnceEvenWhenAllOfThemWait() {
        let pool = WaitingThreadPool(name: "test.waiting")
        let count = 48
        let started = Atomic(0)
        let allStarted = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        let sawEveryone = Atomic(0)
        for _ in 0..<count {
            finished.enter()
            pool.run {
                if started.add(1, ordering: .sequentiallyConsistent).newValue == count {
                    for _ in 0..<count { allStarted.signal() }
                }
                if allStarted.wait(timeout: .now() + 10) == .success { sawEveryone.add(1, ordering: .sequentiallyConsistent) }
                finished.leave()
            }
        }
        #expect(finished.wait(timeout: .now() + 20) == .success)
        #expect(sawEveryone.load(ordering: .sequentiallyConsistent) == count)
        #expect(pool.threadCount == count)
    }

    @Test func anIdleThreadIsReusedAndLeavesAfterItsTimeout() {
        let pool = WaitingThreadPool(name: "test.waiting", idleTimeout: 0.2)
        for _ in 0..<20 {
            let done = DispatchSemaphore(value: 0)
            pool.run { done.signal() }
            #expect(done.wait(timeout: .now() + 10) == .success)
            // Back in the idle list before the next job is handed out.
            let back = Date().addingTimeInterval(10)
            while pool.idleCount < pool.threadCount, Date() < back { usleep(1_000) }
        }
        #expect(pool.threadCount == 1)
        let deadline = Date().addingTimeInterval(10)
        while pool.threadCount > 0, Date() < deadline { usleep(10_000) }
        #expect(pool.threadCount == 0)
        // And a job after that starts a new thread.
        let done = DispatchSemaphore(value: 0)
        pool.run { done.signal() }
        #expect(done.wait(timeout: .now() + 10) == .success)
    }
}
