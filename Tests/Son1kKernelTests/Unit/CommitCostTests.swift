import Foundation
import Logging
@testable import Son1kKernel
import Son1kPluginKit
import Testing

/// A commit must cost the same however many came before it. Each commit that published an
/// action hands its actions to the event bus through a handler the transaction table keeps;
/// a closure stored in a `Mutex` and read back through `withLock` gained one reabstraction
/// thunk per read, so the n-th commit paid for n thunks (a server slowed down by the hour).
///
/// This is the one timing assertion among the tests: it guards growth, not speed, and compares
/// the same work at the start and at the end of one run, with a generous margin.
@Suite struct CommitCostTests {
    @Test func theLastOfFiftyThousandCommitsWithAnActionCostNoMoreThanTheFirst() throws {
        var settings = KernelSettings()
        settings.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-commits-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: settings.dataDirectory) }
        let storage = try KernelTools.openStorage(settings)
        defer { storage.close() }
        let transactions = TransactionTable(storage: storage)
        let bus = EventBus(storage: storage, transactions: transactions, settings: settings,
                           logger: Logger(label: "commit-cost"), metrics: MetricsRegistry())
        bus.addListener { _ in }  // as the WebSocket fan-out does

        func commitOneAction(_ n: Int) throws {
            let handle = try transactions.begin(by: "demo")
            try bus.publishAction(topic: "demo.item_saved", userID: "usr_1", data: ["n": .number(Double(n))], txn: handle, publisher: "demo")
            try transactions.commit(handle)
        }
        func seconds(of range: Range<Int>) throws -> Double {
            let start = ContinuousClock.now
            for n in range { try commitOneAction(n) }
            return (ContinuousClock.now - start).inSeconds
        }

        let total = 50_000, window = 5_000
        let first = try seconds(of: 0..<window)
        _ = try seconds(of: window..<(total - window))
        let last = try seconds(of: (total - window)..<total)
        let events = try storage.query("SELECT COUNT(*) AS n FROM kernel_events", []).first?["n"]?.int
        #expect(events == total, "every commit recorded its action")
        #expect(last <= 3 * first, """
            the last \(window) commits took \(String(format: "%.2f", last)) s, the first \(window) \(String(format: "%.2f", first)) s \
            (\(String(format: "%.1f", last / first))×): the per-commit cost grows with the number of commits
            """)
    }
}
