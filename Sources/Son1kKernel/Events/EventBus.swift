import Foundation
import Logging
import Son1kPluginKit
import Synchronization

/// The kernel's event bus: synchronous hooks and durable actions.
///
/// **Hooks** run now, on the publisher's thread, inside the publisher's transaction, in
/// the order resolved at boot. A subscriber may replace the payload or veto; a veto (or a
/// failing subscriber) stops the chain and is thrown to the publisher, whose transaction
/// then rolls back.
///
/// **Actions** are written to the outbox (`kernel_events` + one `kernel_deliveries` row per
/// subscriber) in the publisher's transaction, so they exist exactly when its writes do.
/// After commit the dispatcher delivers each at least once, retrying failures with
/// exponential backoff and dead-lettering after `eventMaxAttempts`. Pending deliveries
/// survive a crash: the dispatcher finds them in the table after a restart. A subscription
/// declared `transactional` is delivered inside a kernel transaction that records the
/// delivery too (one commit for a batch of them): exactly once.
final class EventBus: Sendable {
    struct Subscriptions: Sendable {
        var hooks: [String: [LoadedPlugin]] = [:]
        var actions: [String: [String]] = [:]
        /// The action subscriptions delivered inside the delivery's transaction.
        var transactional: Set<Subscriber> = []
        var plugins: [String: LoadedPlugin] = [:]
    }

    struct Subscriber: Hashable, Sendable {
        var plugin: String
        var topic: String
    }

    let storage: any Storage
    let transactions: TransactionTable
    let settings: KernelSettings
    let logger: Logger
    let metrics: MetricsRegistry
    private let subscriptions = Mutex(Subscriptions())
    private let wake = WakeSignal()
    /// Told about every committed action (the WebSocket stream listens here).
    private let listeners = Mutex<[@Sendable ([EventRecord]) -> Void]>([])
    /// Set at shutdown: the dispatcher returns once nothing is due.
    private let finishing = Atomic<Bool>(false)

    init(storage: any Storage, transactions: TransactionTable, settings: KernelSettings, logger: Logger, metrics: MetricsRegistry) {
        self.storage = storage
        self.transactions = transactions
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        transactions.onCommit { [weak self] events in self?.didCommit(events) }
    }

    /// Topics look like `plugin.noun_verb`: two or more dot-separated segments, each a
    /// lowercase letter followed by lowercase letters, digits or underscores
    /// (`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`). Checked on every publish, so by a scan of
    /// the bytes: building the regular expression cost more than the rest of the publish.
    static func isValidTopic(_ topic: String) -> Bool {
        var segments = 0
        var atSegmentStart = true
        for byte in topic.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                atSegmentStart = false
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                if atSegmentStart { return false }
            case UInt8(ascii: "."):
                if atSegmentStart { return false }
                segments += 1
                atSegmentStart = true
            default:
                return false
            }
        }
        return !atSegmentStart && segments >= 1
    }

    func configure(_ subs: Subscriptions) { subscriptions.withLock { $0 = subs } }

    /// True when a running plugin subscribes to the hook `topic`.
    func hasHookSubscribers(_ topic: String) -> Bool {
        subscriptions.withLock { $0.hooks[topic]?.contains { $0.status == .running } ?? false }
    }

    /// True when `plugin` subscribes to the action `topic`.
    func subscribes(_ plugin: String, to topic: String) -> Bool {
        subscriptions.withLock { $0.actions[topic]?.contains(plugin) ?? false }
    }

    func addListener(_ listener: @escaping @Sendable ([EventRecord]) -> Void) { listeners.withLock { $0.append(listener) } }

    // MARK: Hooks

    /// Run the hook chain for `topic`; returns the payload as the subscribers left it.
    /// With `txn` = 0 the chain gets a transaction of its own, committed when nobody vetoes.
    func publishHook(topic: String, userID: String?, data: JSONValue, txn: UInt64, publisher: String) throws -> JSONValue {
        let subscribers = subscriptions.withLock { $0.hooks[topic] ?? [] }.filter { $0.status == .running }
        metrics.increment("son1k_events_published_total", labels: ["kind": "hook", "topic": topic])
        guard !subscribers.isEmpty else { return data }
        var record = EventRecord(id: IDs.make("evt"), topic: topic, kind: .hook, publisher: publisher, userID: userID,
                                 occurredAt: Timestamp.now(), data: data)
        return try transactions.perform(txn) { handle in
            for plugin in subscribers {
                switch plugin.handleEvent(topic: topic, envelope: record.envelope.bytes, txn: handle) {
                case .ok(let replacement):
                    if let replacement { record.data = replacement }
                case .veto(let error):
                    metrics.increment("son1k_hook_vetoes_total", labels: ["topic": topic, "plugin": plugin.name])
                    throw HookVeto(error: error)
                case .failed(let message):
                    logger.error("hook \(topic) failed in plugin \(plugin.name): \(message)")
                    throw HookVeto(error: PluginError(status: 500, code: "hook_failed",
                                                      detail: "The plugin '\(plugin.name)' failed while handling '\(topic)'."))
                }
            }
            return record.data
        }
    }

    // MARK: Actions

    /// Record an action in the outbox, inside `txn` (delivered once it commits) or in a
    /// transaction of its own. Returns the event id.
    @discardableResult
    func publishAction(topic: String, userID: String?, data: JSONValue, txn: UInt64, publisher: String, onlyTo: String? = nil) throws -> String {
        let record = EventRecord(id: IDs.make("evt"), topic: topic, kind: .action, publisher: publisher, userID: userID,
                                 occurredAt: Timestamp.now(), data: data)
        let subscribers = subscriptions.withLock { $0.actions[topic] ?? [] }.filter { onlyTo == nil || $0 == onlyTo }
        let write = { (tx: any StorageTransaction) throws in
            _ = try tx.execute("INSERT INTO kernel_events (id, topic, publisher, user_id, occurred_at, data) VALUES (?, ?, ?, ?, ?, ?)",
                               [.text(record.id), .text(topic), .text(publisher), SQLValue(userID), .text(record.occurredAt), .text(data.jsonString)])
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for subscriber in subscribers {
                _ = try tx.execute("INSERT INTO kernel_deliveries (event_id, subscriber, status, attempts, next_attempt_at) VALUES (?, ?, 'pending', 0, ?)",
                                   [.text(record.id), .text(subscriber), .int(now)])
            }
        }
        metrics.increment("son1k_events_published_total", labels: ["kind": "action", "topic": topic])
        // The dispatcher wakes only for an action somebody receives: waking it for every
        // commit cost two outbox queries and four thread hops per write request.
        if txn != 0 {
            try write(transactions.get(txn))
            transactions.recordAction(record, in: txn)
            if !subscribers.isEmpty { transactions.afterCommit(txn) { [wake] in wake.signal() } }
        } else {
            try storage.transaction(write)
            if !subscribers.isEmpty { wake.signal() }
            didCommit([record])
        }
        return record.id
    }

    /// Tell the listeners (the WebSocket stream) about committed actions.
    private func didCommit(_ events: [EventRecord]) {
        for listener in listeners.withLock({ $0 }) { listener(events) }
    }

    // MARK: Delivery

    struct Delivery: Sendable {
        var record: EventRecord
        var subscriber: String
        var attempts: Int
    }

    /// Deliver due actions until the task is cancelled, or, after ``finishWhenIdle()``, until
    /// nothing is due. Blocking work (the outbox, the subscribers) runs on `queue`, like
    /// request handlers: one hop there per batch (read, deliver, record), not one per step.
    func runDispatcher(queue: DispatchQueue) async {
        while !Task.isCancelled {
            let nextDue: Int64?
            do {
                guard let idle = try await queue.run({ try self.deliverDueBatch(limit: 64, on: queue) }) else { continue }
                nextDue = idle.nextDue
            } catch {
                if Task.isCancelled { return }
                logger.error("event dispatcher cannot read the outbox: \(error)")
                nextDue = nil
            }
            if finishing.load(ordering: .acquiring) { return }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let waitMs = nextDue.map { min(max($0 - now, 1), 5000) } ?? 5000
            await wake.wait(timeout: .milliseconds(waitMs))
        }
    }

    /// What the dispatcher found when nothing was due: when the next pending delivery is.
    struct Idle: Sendable { var nextDue: Int64? }

    /// Deliver one batch of due actions. Transactional subscriptions are delivered here, in
    /// one transaction that records their outcomes (``deliverInTransaction(_:)``); every other
    /// delivery runs on a thread of its own meanwhile (a slow subscriber does not hold up the
    /// others), and one transaction records those outcomes: one commit per batch, not one per
    /// delivery. Returns nil after a batch, or what is pending when none was due.
    func deliverDueBatch(limit: Int, on queue: DispatchQueue) throws -> Idle? {
        let batch = try dueDeliveries(limit: limit)
        if batch.isEmpty { return Idle(nextDue: try earliestPending()) }
        var inTransaction: [Delivery] = [], separate: [Delivery] = []
        subscriptions.withLock { s in
            for d in batch {
                if s.transactional.contains(Subscriber(plugin: d.subscriber, topic: d.record.topic)) { inTransaction.append(d) } else { separate.append(d) }
            }
        }
        // With nothing to deliver in a transaction, this thread makes the first separate delivery.
        let inline = inTransaction.isEmpty ? 1 : 0
        let outcomes = Mutex([LoadedPlugin.EventOutcome](repeating: .failed("not delivered"), count: separate.count))
        let group = DispatchGroup()
        for (i, delivery) in separate.enumerated().dropFirst(inline) {
            queue.async(group: group) { let outcome = self.call(delivery); outcomes.withLock { $0[i] = outcome } }
        }
        if inline == 1, let first = separate.first {
            let outcome = call(first)
            outcomes.withLock { $0[0] = outcome }
        } else {
            deliverInTransaction(inTransaction)
        }
        group.wait()
        if !separate.isEmpty { record(Array(zip(separate, outcomes.withLock { $0 }))) }
        return nil
    }

    /// Deliver to transactional subscribers inside one kernel transaction, each delivery in a
    /// savepoint of its own (a failing one takes back only its own writes, and the actions it
    /// published), and record the outcomes in it: a subscriber's writes and its delivered
    /// mark commit together. If the transaction cannot commit, nothing of it stays and the
    /// deliveries are made again.
    private func deliverInTransaction(_ batch: [Delivery]) {
        let outcomes: [(Delivery, LoadedPlugin.EventOutcome)]
        do {
            outcomes = try transactions.perform { handle in
                let outcomes = try batch.map { delivery in
                    let point = try transactions.savepoint(handle)
                    let outcome = call(delivery, txn: handle)
                    if case .ok = outcome { try transactions.release(point, in: handle) } else { try transactions.rollback(to: point, in: handle) }
                    return (delivery, outcome)
                }
                try recordOutcomes(outcomes, in: transactions.get(handle))
                return outcomes
            }
        } catch {
            logger.error("cannot deliver \(batch.count) actions in a transaction: \(error)")
            return
        }
        count(outcomes)
    }

    /// Shutdown: deliver what is due now, then let ``runDispatcher(queue:)`` return. Deliveries
    /// due later (retries in backoff) stay pending for the next start.
    func finishWhenIdle() {
        finishing.store(true, ordering: .releasing)
        wake.signal()
    }

    /// Deliveries not yet made, due now or later.
    func pendingDeliveries() throws -> Int {
        try storage.query("SELECT COUNT(*) AS n FROM kernel_deliveries WHERE status = 'pending'", []).first?["n"]?.int ?? 0
    }

    func dueDeliveries(limit: Int) throws -> [Delivery] {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let rows = try storage.query("""
            SELECT d.event_id, d.subscriber, d.attempts, e.topic, e.publisher, e.user_id, e.occurred_at, e.data
            FROM kernel_deliveries d JOIN kernel_events e ON e.id = d.event_id
            WHERE d.status = 'pending' AND d.next_attempt_at <= ?
            ORDER BY d.next_attempt_at, d.event_id LIMIT ?
            """, [.int(now), .int(Int64(limit))])
        return rows.compactMap { row in
            guard let id = row["event_id"]?.string, let subscriber = row["subscriber"]?.string, let topic = row["topic"]?.string else { return nil }
            let data = (try? JSONValue.parse(Array((row["data"]?.string ?? "null").utf8))) ?? .null
            let record = EventRecord(id: id, topic: topic, kind: .action, publisher: row["publisher"]?.string ?? "",
                                     userID: row["user_id"]?.string, occurredAt: row["occurred_at"]?.string ?? "", data: data)
            return Delivery(record: record, subscriber: subscriber, attempts: row["attempts"]?.int ?? 0)
        }
    }

    func earliestPending() throws -> Int64? {
        let row = try storage.query("SELECT MIN(next_attempt_at) AS next FROM kernel_deliveries WHERE status = 'pending'", []).first
        return row?["next"]?.int.map(Int64.init)
    }

    /// Hand one delivery to its subscriber: inside the transaction `txn`, or outside any (0).
    func call(_ d: Delivery, txn: UInt64 = 0) -> LoadedPlugin.EventOutcome {
        let plugin = subscriptions.withLock { $0.plugins[d.subscriber] }
        guard let plugin, plugin.status == .running else { return .failed("the subscriber '\(d.subscriber)' is not running") }
        return plugin.handleEvent(topic: d.record.topic, envelope: d.record.envelope.bytes, txn: txn)
    }

    /// Record what became of deliveries, all in one transaction.
    func record(_ outcomes: [(Delivery, LoadedPlugin.EventOutcome)]) {
        do {
            try storage.transaction { tx in try recordOutcomes(outcomes, in: tx) }
        } catch {
            logger.error("cannot record \(outcomes.count) deliveries: \(error)")
            return
        }
        count(outcomes)
    }

    /// What became of each delivery: delivered, or back in the queue after a backoff, or
    /// dead-lettered after `eventMaxAttempts`.
    private func recordOutcomes(_ outcomes: [(Delivery, LoadedPlugin.EventOutcome)], in tx: any StorageTransaction) throws {
        for (d, outcome) in outcomes {
            let attempts = d.attempts + 1
            switch outcome {
            case .ok:
                _ = try tx.execute("UPDATE kernel_deliveries SET status = 'delivered', attempts = ?, delivered_at = ?, last_error = NULL WHERE event_id = ? AND subscriber = ?",
                                   [.int(Int64(attempts)), .text(Timestamp.now()), .text(d.record.id), .text(d.subscriber)])
            case .veto(let e):
                try fail(d, attempts: attempts, error: "\(e.code): \(e.detail)", in: tx)
            case .failed(let message):
                try fail(d, attempts: attempts, error: message, in: tx)
            }
        }
    }

    /// The metrics of recorded outcomes.
    private func count(_ outcomes: [(Delivery, LoadedPlugin.EventOutcome)]) {
        for (d, outcome) in outcomes {
            switch outcome {
            case .ok: metrics.increment("son1k_actions_delivered_total", labels: ["topic": d.record.topic, "subscriber": d.subscriber])
            case .veto, .failed:
                let dead = d.attempts + 1 >= settings.eventMaxAttempts
                metrics.increment(dead ? "son1k_actions_dead_total" : "son1k_actions_retried_total", labels: ["topic": d.record.topic, "subscriber": d.subscriber])
            }
        }
    }

    private func fail(_ d: Delivery, attempts: Int, error: String, in tx: any StorageTransaction) throws {
        let dead = attempts >= settings.eventMaxAttempts
        let delay = Int64(settings.eventRetryBaseMilliseconds) << Int64(min(attempts - 1, 20))
        let next = Int64(Date().timeIntervalSince1970 * 1000) + delay
        _ = try tx.execute("UPDATE kernel_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE event_id = ? AND subscriber = ?",
                           [.text(dead ? "dead" : "pending"), .int(Int64(attempts)), .int(next), .text(String(error.prefix(500))),
                            .text(d.record.id), .text(d.subscriber)])
        if dead { logger.warning("action \(d.record.topic) \(d.record.id) dead-lettered for \(d.subscriber) after \(attempts) attempts: \(error)") }
    }

    /// Put an event's dead deliveries back in the queue (admin retry).
    func requeue(eventID: String) throws -> Int {
        let changed = try storage.execute("UPDATE kernel_deliveries SET status = 'pending', attempts = 0, next_attempt_at = 0 WHERE event_id = ? AND status = 'dead'", [.text(eventID)])
        if changed.changes > 0 { wake.signal() }
        return changed.changes
    }
}
