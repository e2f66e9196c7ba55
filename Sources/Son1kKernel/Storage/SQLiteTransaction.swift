import Foundation
import GRDB
import Son1kPluginKit

/// An explicit SQLite write transaction that outlives a single function call.
///
/// The plugin ABI begins, uses and commits a transaction through separate calls, while GRDB
/// hands out the writer connection one closure at a time. With GRDB's
/// `allowsUnsafeTransactions`, a transaction may stay open between two writer accesses; the
/// kernel's ``WriteLock`` makes that safe by keeping every other writer out until the
/// transaction ends. Each statement then runs on the caller's own thread: no thread handoff
/// per statement (each one cost two wake-ups before).
///
/// A transaction left open past `timeout` is rolled back and the writer freed, so a plugin
/// that forgets to commit cannot hold the database forever.
final class SQLiteTransaction: StorageTransaction, @unchecked Sendable {
    private let pool: DatabasePool
    private let writeLock: WriteLock
    /// Serialises this transaction's statements with its expiry.
    private let lock = NSLock()
    // Guarded by `lock`.
    private var state: State = .open
    private enum State { case open, finished(String) }
    private let owner: UInt

    private let watchdog: TransactionWatchdog

    init(pool: DatabasePool, writeLock: WriteLock, watchdog: TransactionWatchdog, timeout: Double) throws {
        self.pool = pool
        self.writeLock = writeLock
        self.watchdog = watchdog
        guard writeLock.acquire(timeout: max(timeout, 5)) else {
            throw StorageError(kind: .busy, message: "the database writer stayed busy for too long; try again")
        }
        do {
            try SQLiteStorage.mapErrors { try pool.writeWithoutTransaction { db in try db.beginTransaction(.immediate) } }
        } catch {
            writeLock.release()
            throw error
        }
        owner = OpenTransactions.currentThread
        OpenTransactions.began(on: owner)
        watchdog.watch(self, timeout: timeout)
    }

    /// Called by the watchdog when the transaction outlived its timeout.
    func expire(after timeout: Double) {
        finish("rolled back after \(Int(timeout)) s without a commit") { db in try db.rollback() }
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
        var failure: (any Error)?
        let ended = finish("committed") { db in
            do { try db.commit() } catch {
                failure = error
                try? db.rollback()
            }
        }
        if let failure { throw SQLiteStorage.classify(failure) }
        if !ended { throw lock.withLock { Self.closedError(state) } }
    }

    func rollback() {
        _ = finish("rolled back") { db in try db.rollback() }
    }

    private func perform<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
        try lock.withLock {
            guard case .open = state else { throw Self.closedError(state) }
            return try SQLiteStorage.mapErrors { try pool.writeWithoutTransaction(body) }
        }
    }

    /// End the transaction once: run `end`, free the writer. False when it had already ended.
    @discardableResult
    private func finish(_ how: String, _ end: (GRDB.Database) throws -> Void) -> Bool {
        lock.withLock {
            guard case .open = state else { return false }
            state = .finished(how)
            try? pool.writeWithoutTransaction { db in try end(db) }
            watchdog.clear(self)
            writeLock.release()
            OpenTransactions.ended(on: owner)
            return true
        }
    }

    /// Call with `lock` held.
    private static func closedError(_ state: State) -> StorageError {
        if case .finished(let how) = state { return StorageError(kind: .closed, message: "the transaction was already \(how)") }
        return StorageError(kind: .closed, message: "the transaction is closed")
    }
}

/// The one writer's turnstile: an open transaction holds it from BEGIN to COMMIT or
/// ROLLBACK, and autocommit writes take it for one statement. Not tied to a thread: a
/// transaction may end on another thread than the one that began it.
final class WriteLock: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 1)

    func acquire(timeout: Double) -> Bool { semaphore.wait(timeout: .now() + timeout) == .success }
    func release() { semaphore.signal() }
}

/// Rolls back the open write transaction (there is at most one: it holds the ``WriteLock``)
/// once it outlives its timeout. One repeating timer per database instead of one timer per
/// transaction: those cost a wake-up of libdispatch's timer thread each, visible under load.
final class TransactionWatchdog: @unchecked Sendable {
    // `transaction`, `deadline` and `timeout` are guarded by `lock`.
    private let lock = NSLock()
    private weak var transaction: SQLiteTransaction?
    private var deadline = DispatchTime.distantFuture
    private var timeout = 0.0
    private let timer: any DispatchSourceTimer

    /// `interval`: how often it looks, i.e. how late past its timeout a transaction may end.
    init(interval: Double) {
        timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.check() }
        timer.resume()
    }

    deinit { timer.cancel() }

    func watch(_ tx: SQLiteTransaction, timeout: Double) {
        lock.withLock {
            transaction = tx
            deadline = .now() + timeout
            self.timeout = timeout
        }
    }

    func clear(_ tx: SQLiteTransaction) {
        lock.withLock { if transaction === tx { transaction = nil } }
    }

    private func check() {
        let overdue: (SQLiteTransaction, Double)? = lock.withLock {
            guard let tx = transaction, DispatchTime.now() >= deadline else { return nil }
            return (tx, timeout)
        }
        overdue.map { $0.0.expire(after: $0.1) }
    }
}

