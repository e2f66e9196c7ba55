import Foundation
@testable import Son1kKernel
import Son1kPluginKit
import Synchronization
import Testing

@Suite struct CachesAndClockTests {
    @Test func theCachedPrefixGuardGivesTheSameVerdictsAsTheRules() {
        let rules = TablePrefixGuard(pluginName: "tiers")
        let cached = CachedPrefixGuard(rules, capacity: 2)
        let statements = [
            "SELECT * FROM tiers_users WHERE user_id = ?", "SELECT * FROM kernel_users", "DELETE FROM hello_greetings",
            "INSERT INTO tiers_counters (user_id) VALUES (?)", "SELECT * FROM kernel_users",
        ]
        for _ in 0..<2 {
            for sql in statements { #expect(cached.violation(in: sql) == rules.violation(in: sql), "\(sql)") }
        }
        #expect(cached.violation(in: "SELECT * FROM kernel_users") != nil)
    }

    @Test func topicsAreCheckedByTheDocumentedGrammar() {
        for good in ["hello.greeted", "a.b", "tiers.usage_recorded", "queue.job_completed", "x1.y_2.z3", "p.a_"] {
            #expect(EventBus.isValidTopic(good), "\(good)")
        }
        for bad in ["", "hello", "Hello.greeted", "hello.", ".greeted", "hello..greeted", "1a.b", "a._b", "a.1b",
                    "hello.greeted!", "hello greeted.x", "héllo.greeted", "a.b-c", "_a.b"] {
            #expect(!EventBus.isValidTopic(bad), "\(bad)")
        }
    }

    @Test func principalsAreKeptForTheTTLAndDroppedOnDemand() throws {
        let cache = PrincipalCache(ttlSeconds: 60)
        let calls = Mutex(0)
        let alice = Principal(id: "usr_1", role: "user", kind: .user)
        func resolve() -> Principal? { calls.withLock { $0 += 1 }; return alice }
        #expect(cache.principal("j:a", resolve: resolve) == alice)
        #expect(cache.principal("j:a", resolve: resolve) == alice)
        #expect(calls.withLock { $0 } == 1, "the second lookup is served from the cache")
        cache.removeAll()
        _ = cache.principal("j:a", resolve: resolve)
        #expect(calls.withLock { $0 } == 2, "dropped on demand (a role change)")
        #expect(cache.principal("j:nobody") { nil } == nil)
        #expect(cache.principal("j:nobody") { alice } == alice, "failures are not remembered")

        let short = PrincipalCache(ttlSeconds: 0)
        _ = short.principal("k", resolve: resolve)
        _ = short.principal("k", resolve: resolve)
        #expect(calls.withLock { $0 } == 4, "an expired entry is resolved again")
    }

    @Test func thePluginClockReadsItsFileOrTheSystemClock() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("clock-\(UUID())")
        defer { try? FileManager.default.removeItem(at: file) }
        let clock = PluginClock(environment: ["SON1K_TEST_CLOCK_FILE": file.path])
        let system = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(abs(clock.nowMs() - system) < 5000, "no file yet: the system clock")
        try Data("2026-03-31T23:59:59Z\n".utf8).write(to: file)
        #expect(clock.nowMs() == 1_775_001_599_000)
        try Data("1775001600000".utf8).write(to: file)
        #expect(clock.nowMs() == 1_775_001_600_000)
        #expect(PluginClock(environment: [:]).file == nil)
    }
}
