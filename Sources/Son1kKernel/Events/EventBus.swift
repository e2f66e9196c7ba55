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
        /// The action subscriptions delivered inside the delivery's transaction, at its level.
        var transactional: [Subscriber: Isolation] = [:]
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
    /// This process, as recorded with every action it publishes (`kernel_events.origin`): its
    /// own actions reach its WebSocket clients at commit, and the outbox tail skips them.
    let origin = Crypto.hex(Crypto.randomBytes(8))

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
            _ = try tx.execute("INSERT INTO kernel_events (id, topic, publisher, user_id, occurred_at, data, origin) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               [.text(record.id), .text(topic), .text(publisher), SQLValue(userID), .text(record.occurredAt), .text(data.jsonString),
                                .text(self.origin)])
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
            // Inserts alone: nothing read, so nothing for serializable to protect.
            try storage.transaction(.readCommitted, write)
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
        /// The end of this instance's lease on it (its `next_attempt_at` while taken): the
        /// outcome is recorded only while it is still this value.
        var leasedUntil: Int64
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
            // A pending delivery already due that this instance did not take is another
            // instance's, being delivered under its row lock (SKIP LOCKED passed it over): its
            // lease moves it on when that commits. Looking again at once would only spin
            // against the lock, so wait a little; a new action of this instance wakes it anyway.
            let waitMs = nextDue.map { $0 <= now ? Self.contendedWaitMs : min($0 - now, 5000) } ?? 5000
            await wake.wait(timeout: .milliseconds(waitMs))
        }
    }

    /// How long the dispatcher waits when what is due is being delivered by another instance.
    static let contendedWaitMs: Int64 = 20

    /// What the dispatcher found when nothing was due: when the next pending delivery is.
    struct Idle: Sendable { var nextDue: Int64? }

    /// Deliver one batch of due actions. Transactional subscriptions are delivered here, in
    /// one transaction that records their outcomes (``deliverInTransaction(_:)``); every other
    /// delivery runs on a thread of its own meanwhile (a slow subscriber does not hold up the
    /// others), and one transaction records those outcomes: one commit per batch, not one per
    /// delivery. Returns nil after a batch, or what is pending when none was due.
    func deliverDueBatch(limit: Int, on queue: DispatchQueue) throws -> Idle? {
        let batch = try takeDue(limit: limit)
        if batch.isEmpty { return Idle(nextDue: try earliestPending()) }
        var inTransaction: [Isolation: [Delivery]] = [:], separate: [Delivery] = []
        subscriptions.withLock { s in
            for d in batch {
                if let level = s.transactional[Subscriber(plugin: d.subscriber, topic: d.record.topic)] { inTransaction[level, default: []].append(d) } else { separate.append(d) }
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
            // Serializable first, then READ COMMITTED: each level a transaction of its own.
            for level in Isolation.allCases { if let group = inTransaction[level] { deliverInTransaction(group, level) } }
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
    ///
    /// The batch first runs without savepoints (on PostgreSQL each is two round trips, four
    /// per action with one subscriber): when every delivery succeeds and is still this
    /// instance's — nearly always — that transaction is the whole story. Otherwise it rolls
    /// back and the batch runs again, a savepoint per delivery, so a failing subscriber is
    /// called twice for that attempt; nothing of the first run stays.
    private func deliverInTransaction(_ batch: [Delivery], _ isolation: Isolation) {
        let outcomes: [(Delivery, LoadedPlugin.EventOutcome)]
        do {
            if let all = try deliverAllOrNothing(batch, isolation) {
                count(all)
                return
            }
            outcomes = try transactions.perform(isolation: isolation) { handle in
                try batch.compactMap { delivery in
                    let point = try transactions.savepoint(handle)
                    let outcome = call(delivery, txn: handle)
                    if case .ok = outcome {} else { try transactions.rollback(to: point, in: handle) }
                    // Kept only with its acknowledgement: a delivery whose lease ran out (another
                    // instance took it) takes its writes back too.
                    guard try recordOutcome(delivery, outcome, in: transactions.get(handle)) else {
                        if case .ok = outcome { try transactions.rollback(to: point, in: handle) }
                        return nil
                    }
                    if case .ok = outcome { try transactions.release(point, in: handle) }
                    return (delivery, outcome)
                }
            }
        } catch {
            logger.error("cannot deliver \(batch.count) actions in a transaction: \(error)")
            giveBack(batch)
            return
        }
        count(outcomes)
    }

    /// Every delivery of `batch` in one transaction with no savepoint, committed only if each
    /// one succeeded and was recorded; nil (and nothing written) otherwise.
    private func deliverAllOrNothing(_ batch: [Delivery], _ isolation: Isolation) throws -> [(Delivery, LoadedPlugin.EventOutcome)]? {
        struct NotAll: Error {}
        do {
            return try transactions.perform(isolation: isolation) { handle in
                try batch.map { delivery in
                    let outcome = call(delivery, txn: handle)
                    guard case .ok = outcome, try recordOutcome(delivery, outcome, in: transactions.get(handle)) else { throw NotAll() }
                    return (delivery, outcome)
                }
            }
        } catch is NotAll {
            return nil
        }
    }

    /// Deliveries taken but not made (their transaction failed): due again after the first
    /// retry delay rather than at the end of the lease.
    private func giveBack(_ batch: [Delivery]) {
        let due = Int64(Date().timeIntervalSince1970 * 1000) + Int64(settings.eventRetryBaseMilliseconds)
        do {
            // Conditional updates of rows this instance leased: see ``record(_:)``.
            try storage.transaction(.readCommitted) { tx in
                for d in batch {
                    _ = try tx.execute("UPDATE kernel_deliveries SET next_attempt_at = ? WHERE event_id = ? AND subscriber = ? AND status = 'pending' AND next_attempt_at = ?",
                                       [.int(due), .text(d.record.id), .text(d.subscriber), .int(d.leasedUntil)])
                }
            }
        } catch {
            logger.error("cannot give back \(batch.count) deliveries (due again when their lease ends): \(error)")
        }
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

    /// Take up to `limit` due deliveries for this instance, most overdue first. Taking one
    /// moves its `next_attempt_at` to the end of a lease (`kernel.events.lease_ms`), so no other
    /// instance — nor this one's next batch — takes it meanwhile; one never recorded (the
    /// instance died) is due again when the lease ends. On PostgreSQL the inner SELECT skips
    /// the rows another instance is taking at the same moment.
    func takeDue(limit: Int) throws -> [Delivery] {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let until = now + Int64(settings.eventLeaseMilliseconds)
        // A read first: most wake-ups find nothing due, and a read costs no write transaction.
        guard try !storage.query("SELECT 1 AS due FROM kernel_deliveries WHERE status = 'pending' AND next_attempt_at <= ? LIMIT 1", [.int(now)]).isEmpty else {
            return []
        }
        // One statement of its own: on PostgreSQL it runs at READ COMMITTED, the level SKIP
        // LOCKED is made for, and takes part in no other transaction's serialisation checks.
        let skipLocked = storage.dialect == "postgres" ? " FOR UPDATE SKIP LOCKED" : ""
        let taken = try storage.writeReturning("""
            UPDATE kernel_deliveries SET next_attempt_at = ?
            WHERE (event_id, subscriber) IN (
                SELECT event_id, subscriber FROM kernel_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
                ORDER BY next_attempt_at, event_id LIMIT ?\(skipLocked))
            RETURNING event_id, subscriber, attempts
            """, [.int(until), .int(now), .int(Int64(limit))])
        guard !taken.isEmpty else { return [] }
        let ids = Array(Set(taken.compactMap { $0["event_id"]?.string }))
        let events = try storage.query(
            "SELECT \(EventRecord.columns) FROM kernel_events WHERE id IN (\(JobStore.marks(ids.count)))", ids.map { .text($0) })
        let records = Dictionary(events.compactMap(EventRecord.init(row:)).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // Event ids grow with time: in id order, each subscriber hears actions as they happened.
        return taken.compactMap { row -> Delivery? in
            guard let id = row["event_id"]?.string, let subscriber = row["subscriber"]?.string, let record = records[id] else { return nil }
            return Delivery(record: record, subscriber: subscriber, attempts: row["attempts"]?.int ?? 0, leasedUntil: until)
        }.sorted { ($0.record.id, $0.subscriber) < ($1.record.id, $1.subscriber) }
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

    /// Record what became of deliveries, all in one transaction. READ COMMITTED: each outcome
    /// is one conditional UPDATE of a row this instance leased (`… AND next_attempt_at = ?`),
    /// which the row lock decides; at SERIALIZABLE these updates, reading the outbox's newest
    /// index pages, conflicted with every transaction publishing an action.
    func record(_ outcomes: [(Delivery, LoadedPlugin.EventOutcome)]) {
        let recorded: [(Delivery, LoadedPlugin.EventOutcome)]
        do {
            recorded = try storage.transaction(.readCommitted) { tx in try recordOutcomes(outcomes, in: tx) }
        } catch {
            logger.error("cannot record \(outcomes.count) deliveries: \(error)")
            return
        }
        count(recorded)
    }

    /// What became of each delivery (see ``recordOutcome(_:_:in:)``); the ones recorded.
    private func recordOutcomes(_ outcomes: [(Delivery, LoadedPlugin.EventOutcome)], in tx: any StorageTransaction) throws -> [(Delivery, LoadedPlugin.EventOutcome)] {
        try outcomes.filter { d, outcome in try recordOutcome(d, outcome, in: tx) }
    }

    /// What became of a delivery: delivered, or back in the queue after a backoff, or
    /// dead-lettered after `eventMaxAttempts` — if this instance still holds it. False when its
    /// lease ran out and another instance took it: that one's outcome is the one that counts.
    private func recordOutcome(_ d: Delivery, _ outcome: LoadedPlugin.EventOutcome, in tx: any StorageTransaction) throws -> Bool {
        let attempts = d.attempts + 1
        switch outcome {
        case .ok:
            return try tx.execute("""
                UPDATE kernel_deliveries SET status = 'delivered', attempts = ?, delivered_at = ?, last_error = NULL
                WHERE event_id = ? AND subscriber = ? AND status = 'pending' AND next_attempt_at = ?
                """, [.int(Int64(attempts)), .text(Timestamp.now()), .text(d.record.id), .text(d.subscriber), .int(d.leasedUntil)]).changes == 1
        case .veto(let e):
            return try fail(d, attempts: attempts, error: "\(e.code): \(e.detail)", in: tx)
        case .failed(let message):
            return try fail(d, attempts: attempts, error: message, in: tx)
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

    private func fail(_ d: Delivery, attempts: Int, error: String, in tx: any StorageTransaction) throws -> Bool {
        let dead = attempts >= settings.eventMaxAttempts
        let delay = Int64(settings.eventRetryBaseMilliseconds) << Int64(min(attempts - 1, 20))
        let next = Int64(Date().timeIntervalSince1970 * 1000) + delay
        let recorded = try tx.execute("""
            UPDATE kernel_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?
            WHERE event_id = ? AND subscriber = ? AND status = 'pending' AND next_attempt_at = ?
            """, [.text(dead ? "dead" : "pending"), .int(Int64(attempts)), .int(next), .text(String(error.prefix(500))),
                  .text(d.record.id), .text(d.subscriber), .int(d.leasedUntil)]).changes == 1
        if dead, recorded { logger.warning("action \(d.record.topic) \(d.record.id) dead-lettered for \(d.subscriber) after \(attempts) attempts: \(error)") }
        return recorded
    }

    /// Delete up to `limit` actions published before `cutoff` (ISO-8601) that every
    /// subscriber received (their delivery rows go with them); an action with a delivery still
    /// pending or dead-lettered stays, for its retry. Returns how many went.
    func prune(deliveredBefore cutoff: String, limit: Int) throws -> Int {
        try storage.execute("""
            DELETE FROM kernel_events WHERE id IN (
                SELECT e.id FROM kernel_events e
                WHERE e.occurred_at < ? AND NOT EXISTS (SELECT 1 FROM kernel_deliveries d WHERE d.event_id = e.id AND d.status <> 'delivered')
                LIMIT ?)
            """, [.text(cutoff), .int(Int64(limit))]).changes
    }

    /// Put an event's dead deliveries back in the queue (admin retry).
    func requeue(eventID: String) throws -> Int {
        let changed = try storage.execute("UPDATE kernel_deliveries SET status = 'pending', attempts = 0, next_attempt_at = 0 WHERE event_id = ? AND status = 'dead'", [.text(eventID)])
        if changed.changes > 0 { wake.signal() }
        return changed.changes
    }
}
