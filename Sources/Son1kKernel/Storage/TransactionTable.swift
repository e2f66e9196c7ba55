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
        var owner: String
        /// The plugin that began it through the ABI, and so may end it; nil when the kernel
        /// began it (a hook chain's, a delivery batch's, a job's) and only lends it out.
        var plugin: String?
        var actions: [EventRecord] = []
        /// Run once it committed (wake-ups for what it made due, e.g. the job queue's workers).
        var afterCommit: [@Sendable () -> Void] = []
        /// Savepoints opened so far (their names are numbered).
        var savepoints = 0
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

    /// Begin a transaction. `plugin`: the plugin that began it itself (`db_begin`), the only
    /// one allowed to commit or roll it back through the ABI.
    func begin(owner: String, plugin: String? = nil) throws -> UInt64 {
        let tx = try storage.begin()
        let handle = nextHandle.withLock { h in
            defer { h += 1 }
            return h
        }
        entries.withLock { $0[handle] = Entry(transaction: tx, owner: owner, plugin: plugin) }
        return handle
    }

    /// Refuses a plugin's commit or rollback of a transaction it did not begin: one lent to it
    /// (a hook's publisher's, a delivery's, a job's) is ended by whoever began it.
    func checkEnd(_ handle: UInt64, by plugin: String) throws {
        let began = entries.withLock { e -> String?? in e[handle].map { $0.plugin } }
        guard case .some(let owner) = began else { return }   // not open: commit/rollback say so
        guard owner == plugin else {
            throw PluginError(status: 403, code: "transaction_not_yours",
                              detail: "Transaction \(handle) was lent to the plugin '\(plugin)'; only the one that began it ends it.")
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
    struct Savepoint {
        fileprivate let name: String
        fileprivate let actions: Int
        fileprivate let afterCommit: Int
    }

    /// Open a savepoint in `handle` (nested ones each get a name of their own).
    func savepoint(_ handle: UInt64) throws -> Savepoint {
        let tx = try get(handle)
        let point = entries.withLock { e -> Savepoint? in
            guard let entry = e[handle] else { return nil }
            defer { e[handle]?.savepoints += 1 }
            return Savepoint(name: "son1k_sp\(entry.savepoints)", actions: entry.actions.count, afterCommit: entry.afterCommit.count)
        }
        guard let point else { throw PluginError(status: 500, code: "transaction_closed", detail: "Transaction \(handle) is not open.") }
        _ = try tx.execute("SAVEPOINT \(point.name)", [])
        return point
    }

    /// Keep what was done since `point` (it commits with the transaction).
    func release(_ point: Savepoint, in handle: UInt64) throws {
        _ = try get(handle).execute("RELEASE SAVEPOINT \(point.name)", [])
    }

    /// Undo what was done since `point`, and forget what was published since.
    func rollback(to point: Savepoint, in handle: UInt64) throws {
        let tx = try get(handle)
        _ = try tx.execute("ROLLBACK TO SAVEPOINT \(point.name)", [])
        _ = try tx.execute("RELEASE SAVEPOINT \(point.name)", [])
        entries.withLock { e in
            e[handle]?.actions.removeSubrange(point.actions...)
            e[handle]?.afterCommit.removeSubrange(point.afterCommit...)
        }
    }

    func commit(_ handle: UInt64) throws {
        guard let entry = entries.withLock({ $0.removeValue(forKey: handle) }) else {
            throw PluginError(status: 500, code: "transaction_closed", detail: "Transaction \(handle) is not open.")
        }
        try entry.transaction.commit()
        if !entry.actions.isEmpty, let handler = committed.withLock({ $0 }) { handler.call(entry.actions) }
        for body in entry.afterCommit { body() }
    }

    func rollback(_ handle: UInt64) {
        entries.withLock { $0.removeValue(forKey: handle) }?.transaction.rollback()
    }
}
