import Foundation
@testable import Son1kKernel
import Son1kPluginKit
import Testing

/// The outbox past one process: the tail that feeds each instance's WebSocket clients skips
/// no action whatever order transactions commit in, and delivered actions are pruned.
@Suite struct OutboxTests {
    static func insertEvent(_ id: String, occurredAt: String = Timestamp.now(), in tx: any StorageTransaction) throws {
        _ = try tx.execute("INSERT INTO kernel_events (id, topic, publisher, user_id, occurred_at, data) VALUES (?, 'hello.greeted', 'hello', 'usr_1', ?, '{}')",
                           [.text(id), .text(occurredAt)])
    }

    /// Poll `tail` until `count` actions came (or 20 s passed); what came, in order.
    static func read(_ tail: OutboxTail, until count: Int) throws -> [String] {
        let deadline = Date().addingTimeInterval(20)
        var ids: [String] = []
        while ids.count < count, Date() < deadline {
            ids += try tail.poll().map(\.id)
            if ids.count < count { Thread.sleep(forTimeInterval: 0.05) }   // paced polling, under a deadline
        }
        return ids
    }

    /// A transaction that began first but commits last: a tail by serial id would already be
    /// past its row; the tail by transaction id waits for it, then reads both in order.
    @Test func theTailWaitsForATransactionStillInFlightAndSkipsNothing() async throws {
        let storage = try await Backend.postgres.freshStorage()
        defer { storage.close() }
        let tail = OutboxTail(storage: storage, origin: "this-test", logger: .init(label: "test")) { _ in }
        let reads = try await onThreads(1) { _ in
            Result { () throws -> [[String]] in
                _ = try tail.poll()                        // marks the start
                let early = try storage.begin()
                try Self.insertEvent("evt_a_first_begun", in: early)
                try storage.transaction { tx in try Self.insertEvent("evt_b_first_committed", in: tx) }
                let whileOpen = try tail.poll().map(\.id)
                try early.commit()
                // Other tests' transactions on the same server hold the mark back a while too.
                let afterCommit = try Self.read(tail, until: 2)
                let again = try tail.poll().map(\.id)
                // This process's own actions reached its clients at commit: the tail passes them by.
                try storage.transaction { tx in
                    _ = try tx.execute("INSERT INTO kernel_events (id, topic, publisher, occurred_at, data, origin) VALUES ('evt_c_mine', 'hello.greeted', 'hello', ?, '{}', 'this-test')",
                                       [.text(Timestamp.now())])
                    try Self.insertEvent("evt_d_theirs", in: tx)
                }
                let mixed = try Self.read(tail, until: 1)
                return [whileOpen, afterCommit, again, mixed]
            }
        }[0].get()
        #expect(reads[0].isEmpty, "nothing while an older transaction is in flight: \(reads[0])")
        #expect(reads[1] == ["evt_a_first_begun", "evt_b_first_committed"], "both, in transaction order: \(reads[1])")
        #expect(reads[2].isEmpty, "each row once")
        #expect(reads[3] == ["evt_d_theirs"], "another instance's action only: \(reads[3])")
    }

    @Test(arguments: Backend.allCases) func deliveredActionsPastTheirRetentionArePrunedAndUndeliveredOnesStay(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
        let bus = EventBus(storage: storage, transactions: TransactionTable(storage: storage), settings: KernelSettings(),
                           logger: .init(label: "test"), metrics: MetricsRegistry())
        let old = "2026-01-01T00:00:00.000Z", recent = Timestamp.now()
        let left = try await onThreads(1) { _ in
            Result { () throws -> [String] in
                try storage.transaction { tx in
                    for (id, at, status) in [("evt_old_delivered", old, "delivered"), ("evt_old_pending", old, "pending"),
                                             ("evt_old_dead", old, "dead"), ("evt_new_delivered", recent, "delivered")] {
                        try Self.insertEvent(id, occurredAt: at, in: tx)
                        _ = try tx.execute("INSERT INTO kernel_deliveries (event_id, subscriber, status, attempts, next_attempt_at) VALUES (?, 'faulty', ?, 1, 0)",
                                           [.text(id), .text(status)])
                    }
                    try Self.insertEvent("evt_old_unsubscribed", occurredAt: old, in: tx)
                }
                let pruned = try bus.prune(deliveredBefore: "2026-06-01T00:00:00.000Z", limit: 1000)
                #expect(pruned == 2)
                #expect(try storage.query("SELECT COUNT(*) AS n FROM kernel_deliveries WHERE event_id = 'evt_old_delivered'", []).first?["n"]?.int == 0)
                return try storage.query("SELECT id FROM kernel_events ORDER BY id", []).compactMap { $0["id"]?.string }
            }
        }[0].get()
        #expect(left == ["evt_new_delivered", "evt_old_dead", "evt_old_pending"])
    }
}
