import Foundation
import Son1kPluginKit

/// A row as the kernel hands it around: column name → value.
public typealias StorageRow = [String: JSONValue]

/// What a statement changed.
public struct StorageChanges: Sendable, Equatable {
    public var changes: Int
    public var lastInsertID: Int64
}

/// A database failure, classified so the HTTP layer can answer sensibly.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// A constraint refused the write (unique, foreign key, check, not null).
        case constraint
        /// The writer or a lock stayed busy for too long.
        case busy
        /// Another transaction changed the same rows at the same time (PostgreSQL's
        /// serialisation failures and deadlocks); running the transaction again may succeed.
        case conflict
        /// The database cannot be reached (a lost connection, a server shutting down).
        case unavailable
        /// The transaction was already ended, or an earlier statement aborted it.
        case closed
        case misuse, failed
    }
    public var kind: Kind
    public var message: String
    public var description: String { message }

    /// The problem a plugin receives for this error.
    public var pluginError: PluginError {
        switch kind {
        case .constraint: return PluginError(status: 409, code: "constraint_violation", detail: message)
        case .busy: return PluginError(status: 503, code: "database_busy", detail: message)
        case .conflict: return PluginError(status: 409, code: ConflictRetry.code, detail: message)
        case .unavailable: return PluginError(status: 503, code: "database_unavailable", detail: message)
        case .closed, .misuse: return PluginError(status: 500, code: "transaction_closed", detail: message)
        case .failed: return PluginError(status: 500, code: "database_error", detail: message)
        }
    }
}

/// The kernel's database, as every layer above it sees it.
///
/// Statements use the portable subset of SQL that SQLite and PostgreSQL share, with `?`
/// placeholders, so a PostgreSQL implementation can replace the SQLite one without any
/// plugin noticing. Implementations must be safe to call from any thread.
public protocol Storage: Sendable {
    /// `sqlite` or `postgres`.
    var dialect: String { get }
    /// Run one statement in its own transaction.
    func execute(_ sql: String, _ params: [SQLValue]) throws -> StorageChanges
    /// Read rows (concurrently with other readers where the engine allows).
    func query(_ sql: String, _ params: [SQLValue]) throws -> [StorageRow]
    /// The same rows as a JSON array of objects (columns in select order): what plugins
    /// receive, written straight from the engine's rows.
    func queryJSON(_ sql: String, _ params: [SQLValue]) throws -> [UInt8]
    /// Run one writing statement with `RETURNING` in its own transaction and read its rows
    /// (on PostgreSQL at READ COMMITTED, like every single statement: what `FOR UPDATE SKIP
    /// LOCKED` queues are made for).
    func writeReturning(_ sql: String, _ params: [SQLValue]) throws -> [StorageRow]
    /// Start a write transaction at `isolation`. It holds the writer until committed or
    /// rolled back.
    func begin(isolation: Isolation) throws -> any StorageTransaction
    /// Close connections; further calls fail.
    func close()
}

/// An open write transaction. Statements of one transaction run in order; it must be
/// ended exactly once with ``commit()`` or ``rollback()``.
public protocol StorageTransaction: AnyObject, Sendable {
    func execute(_ sql: String, _ params: [SQLValue]) throws -> StorageChanges
    func query(_ sql: String, _ params: [SQLValue]) throws -> [StorageRow]
    func queryJSON(_ sql: String, _ params: [SQLValue]) throws -> [UInt8]
    func commit() throws
    func rollback()
    /// False once committed, rolled back or expired.
    var isOpen: Bool { get }
}

extension Storage {
    /// Start a ``Isolation/serializable`` write transaction.
    public func begin() throws -> any StorageTransaction { try begin(isolation: .serializable) }

    /// Run `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// A transaction that fails because a concurrent one changed the same rows (a
    /// ``StorageError/Kind/conflict``: PostgreSQL's serialisation failures and deadlocks;
    /// SQLite has none) is run again, up to `attempts` times in all, after a short random
    /// pause. So `body` must do nothing outside the database that cannot be repeated.
    public func transaction<T>(_ isolation: Isolation = .serializable, attempts: Int = 8,
                               _ body: (any StorageTransaction) throws -> T) throws -> T {
        try ConflictBackoff.retrying(attempts: attempts) {
            let tx = try begin(isolation: isolation)
            do {
                let result = try body(tx)
                try tx.commit()
                return result
            } catch {
                tx.rollback()
                throw error
            }
        }
    }

    public func execute(_ sql: String) throws -> StorageChanges { try execute(sql, []) }
}

/// The kernel's side of ``ConflictRetry``: what counts as a conflict here.
enum ConflictBackoff {
    /// Run `body` until it succeeds, fails otherwise than by a conflict, or ran `attempts` times.
    static func retrying<T>(attempts: Int = ConflictRetry.attempts, _ body: () throws -> T) throws -> T {
        try ConflictRetry.retrying(attempts: attempts, isConflict: isConflict, body)
    }

    /// A conflict as storage reports it, or as it reached the kernel through a plugin (a hook
    /// subscriber's statement that conflicted inside the kernel's transaction).
    static func isConflict(_ error: any Error) -> Bool {
        if let error = error as? StorageError { return error.kind == .conflict }
        if let error = error as? PluginError { return error.code == ConflictRetry.code }
        if let veto = error as? HookVeto { return veto.error.code == ConflictRetry.code }
        return false
    }
}
