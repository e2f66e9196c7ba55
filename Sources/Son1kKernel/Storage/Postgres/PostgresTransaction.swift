import Foundation
import PostgresNIO
import Son1kPluginKit

/// An explicit PostgreSQL transaction: one connection, `BEGIN ISOLATION LEVEL SERIALIZABLE`
/// (or `READ COMMITTED`), the statements in order, then `COMMIT` or `ROLLBACK`.
///
/// One difference from SQLite, stated in docs/PLUGINS.md: a statement that fails aborts the
/// whole transaction on PostgreSQL. The failing statement throws as on SQLite; every later
/// statement, and the commit, fail with ``StorageError/Kind/closed`` naming the first error,
/// and nothing of the transaction is written.
final class PostgresTransaction: StorageTransaction, ExpiringTransaction, @unchecked Sendable {
    private let storage: PostgresStorage
    private let lease: PostgresPool.Lease
    /// Serialises this transaction's statements with its expiry.
    private let lock = NSLock()
    // Guarded by `lock`.
    private var state: State = .open
    private enum State { case open, aborted(StorageError), finished(String) }
    private let owner: UInt

    init(storage: PostgresStorage, isolation: Isolation) throws {
        self.storage = storage
        lease = try storage.lease(from: storage.transactions)
        do {
            _ = try storage.send(lease, isolation == .readCommitted ? "BEGIN ISOLATION LEVEL READ COMMITTED" : "BEGIN ISOLATION LEVEL SERIALIZABLE")
        } catch {
            lease.release()
            throw error
        }
        owner = OpenTransactions.currentThread
        OpenTransactions.began(on: owner)
        storage.watchdog.watch(self, timeout: storage.transactionTimeout)
    }

    var isOpen: Bool {
        lock.withLock { if case .finished = state { return false }; return true }
    }

    func execute(_ sql: String, _ params: [SQLValue]) throws -> StorageChanges {
        try perform(recovering: Self.returnsToSavepoint(sql)) { try storage.run(lease, sql, params).changes }
    }

    /// `ROLLBACK TO SAVEPOINT …` is what PostgreSQL accepts in an aborted transaction: it
    /// undoes the failed statement along with the rest since the savepoint, and the
    /// transaction goes on (the kernel delivers each action of a batch in a savepoint).
    private static func returnsToSavepoint(_ sql: String) -> Bool {
        sql.utf8.count < 64 && sql.uppercased().trimmingCharacters(in: .whitespaces).hasPrefix("ROLLBACK TO")
    }

    func query(_ sql: String, _ params: [SQLValue]) throws -> [StorageRow] {
        try perform { try storage.run(lease, sql, params).rows.map(PostgresValues.row) }
    }

    func queryJSON(_ sql: String, _ params: [SQLValue]) throws -> [UInt8] {
        try perform { PostgresValues.jsonArray(try storage.run(lease, sql, params).rows) }
    }

    func commit() throws {
        if let failure = finish("committed", commit: true) { throw failure }
    }

    func rollback() {
        _ = finish("rolled back", commit: false)
    }

    func expire(after timeout: Double) {
        _ = finish("rolled back after \(Int(timeout)) s without a commit", commit: false)
    }

    private func perform<T>(recovering: Bool = false, _ body: () throws -> T) throws -> T {
        try lock.withLock {
            switch state {
            case .open: break
            case .aborted where recovering: break
            case .aborted(let first): throw StorageError(kind: .closed, message: "an earlier statement of this transaction failed (\(first.message)), so PostgreSQL aborted it")
            case .finished(let how): throw StorageError(kind: .closed, message: "the transaction was already \(how)")
            }
            do {
                let result = try body()
                if recovering { state = .open }
                return result
            } catch let error as StorageError {
                if error.kind != .misuse, case .open = state { state = .aborted(error) }
                throw error
            }
        }
    }

    /// End the transaction once and give the connection back. Returns the commit's failure.
    private func finish(_ how: String, commit: Bool) -> StorageError? {
        lock.withLock {
            let failure: StorageError?
            switch state {
            case .finished(let previous):
                return commit ? StorageError(kind: .closed, message: "the transaction was already \(previous)") : nil
            case .aborted(let first):
                _ = try? lease.query("ROLLBACK")
                failure = commit ? StorageError(kind: first.kind == .conflict ? .conflict : .closed,
                                                message: "the transaction was rolled back: an earlier statement failed (\(first.message))") : nil
            case .open:
                do {
                    _ = try storage.send(lease, commit ? "COMMIT" : "ROLLBACK")
                    failure = nil
                } catch {
                    _ = try? lease.query("ROLLBACK")
                    failure = commit ? PostgresStorage.classify(error, location: storage.location) : nil
                }
            }
            state = .finished(how)
            storage.watchdog.clear(self)
            OpenTransactions.ended(on: owner)
            lease.release()
            return failure
        }
    }
}
