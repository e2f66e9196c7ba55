import Foundation
import GRDB
import Son1kPluginKit

/// An explicit SQLite write transaction that outlives a single function call.
///
/// The plugin ABI begins, uses and commits a transaction through separate calls, while GRDB
/// hands out the writer connection one closure at a time. With GRDB's
/// `allowsUnsafeTransactions`, a transaction may stay open between two writer accesses; the
/// kernel's ``GroupCommit`` turnstile makes that safe by keeping every other writer out until
/// this transaction ends. Each statement runs on the caller's own thread: no thread handoff
/// per statement.
///
/// The transaction is a SAVEPOINT inside a physical transaction that several may share
/// (``GroupCommit``): committing releases the savepoint and returns once the shared COMMIT
/// happened; rolling back undoes this transaction's writes alone.
///
/// A transaction left open past `timeout` is rolled back and the writer freed, so a plugin
/// that forgets to commit cannot hold the database forever.
final class SQLiteTransaction: StorageTransaction, ExpiringTransaction, @unchecked Sendable {
    private let pool: DatabasePool
    private let turnstile: GroupCommit
    private let group: GroupCommit.Group
    /// Serialises this transaction's statements with its expiry.
    private let lock = NSLock()
    // Guarded by `lock`.
    private var state: State = .open
    private enum State { case open, finished(String) }
    private let owner: UInt

    private let watchdog: TransactionWatchdog

    init(pool: DatabasePool, turnstile: GroupCommit, watchdog: TransactionWatchdog, timeout: Double) throws {
        self.pool = pool
        self.turnstile = turnstile
        self.watchdog = watchdog
        group = try turnstile.enter(timeout: max(timeout, 5)) {
            try SQLiteStorage.mapErrors { try pool.writeWithoutTransaction { db in try db.beginTransaction(.immediate) } }
        }
        do {
            try SQLiteStorage.mapErrors { try pool.writeWithoutTransaction { db in try db.execute(sql: "SAVEPOINT son1k_tx") } }
        } catch let error as StorageError {
            turnstile.abort(group, error)
            _ = turnstile.leave(group, contributed: false, commit: { nil }, rollback: { [pool] in Self.rollbackPhysical(pool) })
            throw error
        }
        owner = OpenTransactions.currentThread
        OpenTransactions.began(on: owner)
        watchdog.watch(self, timeout: timeout)
    }

    /// Called by the watchdog when the transaction outlived its timeout.
    func expire(after timeout: Double) {
        _ = finish("rolled back after \(Int(timeout)) s without a commit", commit: false)
    }

    var isOpen: Bool {
        lock.withLock { if case .open = state { return true }; return false }
    }

    func execute(_ sql: String, _ params: [SQLValue]) throws -> StorageChanges {
        try perform { db in try SQLiteStorage.execute(db, sql, params) }
    }

    func query(_ sql: String, _ params: [SQLValue]) throws -> [StorageRow] {
        try perform { db in try SQLiteStorage.query(db, sql, params) }
    }

    func queryJSON(_ sql: String, _ params: [SQLValue]) throws -> [UInt8] {
        try perform { db in try SQLiteStorage.queryJSON(db, sql, params) }
    }

    func commit() throws {
        let (ended, failure) = finish("committed", commit: true)
        if let failure { throw failure }
        if !ended { throw lock.withLock { Self.closedError(state) } }
    }

    func rollback() {
        _ = finish("rolled back", commit: false)
    }

    private func perform<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
        try lock.withLock {
            guard case .open = state else { throw Self.closedError(state) }
            do {
                return try SQLiteStorage.mapErrors { try pool.writeWithoutTransaction(body) }
            } catch let error as StorageError {
                // A failed statement is undone alone; an error that ended the whole physical
                // transaction (I/O, a full disk) fails everyone who shared it.
                if (try? pool.writeWithoutTransaction({ !$0.isInsideTransaction })) == true { turnstile.abort(group, error) }
                throw error
            }
        }
    }

    /// End the transaction once: release (or roll back to) its savepoint, leave the writer,
    /// and for a commit wait for the group's. Returns whether it was still open, and the
    /// commit's failure.
    private func finish(_ how: String, commit: Bool) -> (Bool, StorageError?) {
        lock.withLock {
            guard case .open = state else { return (false, nil) }
            state = .finished(how)
            var released = false
            if commit {
                do {
                    try SQLiteStorage.mapErrors { try pool.writeWithoutTransaction { db in try db.execute(sql: "RELEASE SAVEPOINT son1k_tx") } }
                    released = true
                } catch let error as StorageError {
                    turnstile.abort(group, error)
                } catch {}
            }
            if !released {
                try? pool.writeWithoutTransaction { db in
                    try db.execute(sql: "ROLLBACK TO SAVEPOINT son1k_tx")
                    try db.execute(sql: "RELEASE SAVEPOINT son1k_tx")
                }
            }
            watchdog.clear(self)
            OpenTransactions.ended(on: owner)
            let failure = turnstile.leave(group, contributed: released, commit: { [pool] in
                do {
                    try SQLiteStorage.mapErrors { try pool.writeWithoutTransaction { db in try db.commit() } }
                    return nil
                } catch let error as StorageError {
                    Self.rollbackPhysical(pool)
                    return error
                } catch {
                    return StorageError(kind: .failed, message: "\(error)")
                }
            }, rollback: { [pool] in Self.rollbackPhysical(pool) })
            if commit && !released { return (true, failure ?? StorageError(kind: .failed, message: "the transaction could not be committed")) }
            return (true, failure)
        }
    }

    /// Rolls back the physical transaction, if one is still open.
    private static func rollbackPhysical(_ pool: DatabasePool) {
        try? pool.writeWithoutTransaction { db in
            if db.isInsideTransaction { try db.rollback() }
        }
    }

    /// Call with `lock` held.
    private static func closedError(_ state: State) -> StorageError {
        if case .finished(let how) = state { return StorageError(kind: .closed, message: "the transaction was already \(how)") }
        return StorageError(kind: .closed, message: "the transaction is closed")
    }
}
