import Son1kPluginKit
import Synchronization

/// The open transactions plugins hold, by handle.
///
/// A handle crosses the ABI as an integer, so a hook subscriber can write inside its
/// publisher's transaction. Actions published in a transaction are remembered here and
/// handed to the event bus only when the transaction commits.
final class TransactionTable: Sendable {
    struct Entry {
        var transaction: any StorageTransaction
        /// The plugin that began it through the ABI (`db_begin`), the only one that may end it
        /// there; nil when the kernel began it (a hook chain's, a delivery batch's, a job's)
        /// and only lends it out.
        var plugin: String?
        var actions: [EventRecord] = []
        /// Run once it committed (wake-ups for what it made due, e.g. the job queue's workers).
        var afterCommit: [@Sendable () -> Void] = []
    }

    private let storage: any Storage
    private let entries = Mutex<[UInt64: Entry]>([:])
    private let nextHandle = Mutex<UInt64>(1)
    /// Called with the actions a transaction published, after it committed. The closure
    /// lives in a class: a bare closure kept in a `Mutex` gains one reabstraction thunk each
    /// time `withLock` hands it out, so every commit would cost more than the one before
    /// (and releasing the chain at exit overflows the stack). See CommitCostTests.
    private final class CommitHandler: Sendable {
        let call: @Sendable ([EventRecord]) -> Void
        init(_ call: @escaping @Sendable ([EventRecord]) -> Void) { self.call = call }
    }
    private let committed = Mutex<CommitHandler?>(nil)

    init(storage: any Storage) {
        self.storage = storage
    }

    /// Set once at boot by the event bus.
    func onCommit(_ handler: @escaping @Sendable ([EventRecord]) -> Void) {
        committed.withLock { $0 = CommitHandler(handler) }
    }

    /// Begin a transaction: the kernel's, or with `plugin`, one that plugin began itself.
    func begin(by plugin: String? = nil, isolation: Isolation = .serializable) throws -> UInt64 {
        let tx = try storage.begin(isolation: isolation)
        let handle = nextHandle.withLock { h in
            defer { h += 1 }
            return h
        }
        entries.withLock { $0[handle] = Entry(transaction: tx, plugin: plugin) }
        return handle
    }

    /// Run `body` in `txn` when one is given, otherwise in a kernel transaction of its own at
    /// `isolation`, committed when `body` returns and rolled back when it throws.
    func perform<T>(_ txn: UInt64 = 0, isolation: Isolation = .serializable, _ body: (UInt64) throws -> T) throws -> T {
        if txn != 0 { return try body(txn) }
        try OpenTransactions.refuseWriteOutsideTransaction()
        // The kernel's own transaction: one that conflicted (PostgreSQL) did nothing, so it
        // simply runs again.
        return try ConflictBackoff.retrying {
            let handle = try begin(isolation: isolation)
            do {
                let result = try body(handle)
                try commit(handle)
                return result
            } catch {
                rollback(handle)
                throw error
            }
        }
    }

    func get(_ handle: UInt64) throws -> any StorageTransaction {
        guard let tx = entries.withLock({ $0[handle]?.transaction }), tx.isOpen else {
            throw PluginError(status: 500, code: "transaction_closed", detail: "Transaction \(handle) is not open (committed, rolled back or expired).")
        }
        return tx
    }

    /// Remember an action to announce once `handle` commits.
    func recordAction(_ event: EventRecord, in handle: UInt64) {
        entries.withLock { $0[handle]?.actions.append(event) }
    }

    /// Run `body` once `handle` commits (never when it rolls back).
    func afterCommit(_ handle: UInt64, _ body: @escaping @Sendable () -> Void) {
        entries.withLock { $0[handle]?.afterCommit.append(body) }
    }

    /// A point inside an open transaction to come back to: a SQL savepoint, and how much it
    /// had published by then (so that rolling back also forgets the actions published since).
    /// Savepoints nest last-in first-out, so one name serves them all: SQL resolves a name to
    /// the innermost savepoint that has it.
    struct Savepoint {
        fileprivate let actions: Int
        fileprivate let afterCommit: Int
    }

    /// Open a savepoint in `handle`.
    func savepoint(_ handle: UInt64) throws -> Savepoint {
        let tx = try get(handle)
        let point = entries.withLock { e in e[handle].map { Savepoint(actions: $0.actions.count, afterCommit: $0.afterCommit.count) } }
        guard let point else { throw PluginError(status: 500, code: "transaction_closed", detail: "Transaction \(handle) is not open.") }
        _ = try tx.execute("SAVEPOINT son1k_point", [])
        return point
    }

    /// Keep what was done since the innermost savepoint (it commits with the transaction).
    func release(_ point: Savepoint, in handle: UInt64) throws {
        _ = try get(handle).execute("RELEASE SAVEPOINT son1k_point", [])
    }

    /// Undo what was done since `point`, the innermost savepoint, and forget what was
    /// published since.
    func rollback(to point: Savepoint, in handle: UInt64) throws {
        let tx = try get(handle)
        _ = try tx.execute("ROLLBACK TO SAVEPOINT son1k_point", [])
        _ = try tx.execute("RELEASE SAVEPOINT son1k_point", [])
        entries.withLock { e in
            e[handle]?.actions.removeSubrange(point.actions...)
            e[handle]?.afterCommit.removeSubrange(point.afterCommit...)
        }
    }

    /// Commit `handle`. With `plugin` (a plugin's `db_commit`), only a transaction that plugin
    /// began: one it was lent is ended by whoever lent it.
    func commit(_ handle: UInt64, by plugin: String? = nil) throws {
        guard let entry = try entries.withLock({ e -> Entry? in
            try Self.refuseLent(e[handle], handle, to: plugin)
            return e.removeValue(forKey: handle)
        }) else {
            throw PluginError(status: 500, code: "transaction_closed", detail: "Transaction \(handle) is not open.")
        }
        try entry.transaction.commit()
        if !entry.actions.isEmpty, let handler = committed.withLock({ $0 }) { handler.call(entry.actions) }
        for body in entry.afterCommit { body() }
    }

    /// A plugin's `db_rollback`: only a transaction that plugin began (see ``commit(_:by:)``).
    func rollback(_ handle: UInt64, by plugin: String) throws {
        try entries.withLock { e -> Entry? in
            try Self.refuseLent(e[handle], handle, to: plugin)
            return e.removeValue(forKey: handle)
        }?.transaction.rollback()
    }

    /// The kernel's own rollback: never refused.
    func rollback(_ handle: UInt64) {
        entries.withLock { $0.removeValue(forKey: handle) }?.transaction.rollback()
    }

    private static func refuseLent(_ entry: Entry?, _ handle: UInt64, to plugin: String?) throws {
        guard let plugin, let entry, entry.plugin != plugin else { return }
        throw PluginError(status: 403, code: "transaction_not_yours",
                          detail: "Transaction \(handle) was lent to the plugin '\(plugin)'; only the one that began it ends it.")
    }
}
