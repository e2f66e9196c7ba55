import Foundation
import GRDB
import Son1kPluginKit

/// An explicit SQLite write transaction that outlives a single function call.
///
/// GRDB hands out a connection only inside a closure, while the plugin ABI begins, uses and
/// commits a transaction through separate calls. So each transaction gets a thread that
/// enters GRDB's writer (SQLite's single writer), runs `BEGIN IMMEDIATE`, and then executes
/// the statements other threads hand it, one at a time, until commit or rollback. A
/// transaction left idle past `timeout` is rolled back so a misbehaving plugin cannot hold
/// the writer forever.
final class SQLiteTransaction: StorageTransaction, @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var job: ((GRDB.Database) -> Void)?
    private var state: State = .starting
    private enum State { case starting, open, finished(String), failed(StorageError) }

    /// Hosts the transactions' loops. Starting a `Thread` per transaction cost ~0.65 ms on
    /// Linux; libdispatch's overcommit threads are reused, and a new one is only made when
    /// every existing one is inside a transaction.
    private static let threads = DispatchQueue(label: "son1k.transactions", attributes: .concurrent)

    init(pool: DatabasePool, timeout: Double) throws {
        Self.threads.async { [self] in run(pool: pool, timeout: timeout) }
        condition.lock()
        while case .starting = state { condition.wait() }
        let started = state
        condition.unlock()
        if case .failed(let error) = started { throw error }
        owner = OpenTransactions.currentThread
        OpenTransactions.began(on: owner)
    }

    /// The thread that began the transaction (for the deadlock guard).
    private var owner: UInt = 0

    var isOpen: Bool {
        condition.lock()
        defer { condition.unlock() }
        if case .open = state { return true }
        return false
    }

    func execute(_ sql: String, _ params: [SQLValue]) throws -> StorageChanges {
        try perform { db in try SQLiteStorage.execute(db, sql, params) }
    }

    func query(_ sql: String, _ params: [SQLValue]) throws -> [StorageRow] {
        try perform { db in try SQLiteStorage.query(db, sql, params) }
    }

    func commit() throws {
        defer { end() }
        try perform(finishing: "committed") { db in try db.commit() }
    }

    func rollback() {
        defer { end() }
        _ = try? perform(finishing: "rolled back") { db in try db.rollback() }
    }

    private var ended = false
    /// Uncount the transaction once, whether it committed, rolled back or expired.
    private func end() {
        condition.lock()
        let first = !ended
        ended = true
        condition.unlock()
        if first { OpenTransactions.ended(on: owner) }
    }

    /// Hand `body` to the transaction's thread and wait for its result.
    private func perform<T>(finishing: String? = nil, _ body: @escaping (GRDB.Database) throws -> T) throws -> T {
        var result: Result<T, any Error>?
        condition.lock()
        defer { condition.unlock() }
        switch state {
        case .open: break
        case .finished(let how): throw StorageError(kind: .closed, message: "the transaction was already \(how)")
        case .failed(let error): throw error
        case .starting: throw StorageError(kind: .misuse, message: "the transaction has not started")
        }
        job = { [self] db in
            let r = Result { try SQLiteStorage.mapErrors { try body(db) } }
            condition.lock()
            result = r
            if let finishing { state = .finished(finishing) }
            condition.broadcast()
            condition.unlock()
        }
        condition.broadcast()
        while result == nil { condition.wait() }
        return try result!.get()
    }

    private func run(pool: DatabasePool, timeout: Double) {
        do {
            try pool.writeWithoutTransaction { db in
                try db.beginTransaction(.immediate)
                condition.lock()
                state = .open
                condition.broadcast()
                while case .open = state {
                    if let next = job {
                        job = nil
                        condition.unlock()
                        next(db)
                        condition.lock()
                        continue
                    }
                    if !condition.wait(until: Date().addingTimeInterval(timeout)), job == nil, case .open = state {
                        state = .finished("rolled back after \(Int(timeout)) s without a commit")
                        condition.unlock()
                        try? db.rollback()
                        end()
                        condition.lock()
                    }
                }
                condition.broadcast()
                condition.unlock()
            }
        } catch {
            condition.lock()
            state = .failed(SQLiteStorage.classify(error))
            condition.broadcast()
            condition.unlock()
        }
    }
}
