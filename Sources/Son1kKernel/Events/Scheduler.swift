import Foundation
import Logging
import Son1kPluginKit
import Synchronization

/// Publishes an action every N seconds on a plugin's behalf (`host->schedule`), **once per
/// period across every instance on the database**: each instance keeps a timer, and a tick
/// publishes only if it claims the period (``PeriodClaim``), in the transaction that records
/// the action.
final class Scheduler: Sendable {
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let transactions: TransactionTable
    private let publish: @Sendable (_ topic: String, _ publisher: String, _ data: JSONValue, _ txn: UInt64) throws -> Void
    let logger: Logger
    /// Writing the outbox blocks, so it runs where blocking work belongs, not on the timer's task.
    let queue: DispatchQueue

    /// `publish(topic, publisher, data, txn)` records the action inside `txn`.
    init(transactions: TransactionTable, logger: Logger, queue: DispatchQueue,
         publish: @escaping @Sendable (String, String, JSONValue, UInt64) throws -> Void) {
        self.transactions = transactions
        self.logger = logger
        self.queue = queue
        self.publish = publish
    }

    func schedule(every seconds: Int, topic: String, publisher: String) throws {
        guard seconds >= 1 else { throw PluginError.invalid("every_s", "must be at least 1 second.") }
        guard EventBus.isValidTopic(topic) else { throw PluginError.invalid("topic", "'\(topic)' must look like plugin.noun_verb.") }
        let task = Task.detached { [self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: .seconds(seconds)) } catch { return }
                do {
                    try await queue.run { try self.tick(every: seconds, topic: topic, publisher: publisher) }
                } catch {
                    logger.error("scheduled action \(topic) of \(publisher) failed: \(error)")
                }
            }
        }
        tasks.withLock { $0.append(task) }
    }

    /// Publish this period's action unless another instance already did (``PeriodClaim``).
    /// Returns whether this tick published.
    @discardableResult
    func tick(every seconds: Int, topic: String, publisher: String, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) throws -> Bool {
        try transactions.perform { handle in
            let claimed = try PeriodClaim.take(owner: publisher, name: topic, periodMs: Int64(seconds) * 1000, now: now, in: transactions.get(handle))
            if claimed { try publish(topic, publisher, ["scheduled_at": .string(Timestamp.now())], handle) }
            return claimed
        }
    }

    func cancelAll() {
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }
}
