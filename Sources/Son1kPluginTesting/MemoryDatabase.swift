import CSQLite
import Foundation
import Son1kPluginKit
import Synchronization

/// The test host's database: one SQLite connection to a private in-memory database, with
/// the kernel's rules for plugin SQL — tables must carry the plugin's prefix, a statement
/// outside a transaction may not write while the calling thread holds one open, and a
/// rolled-back transaction leaves nothing behind.
///
/// One writer at a time, as in the kernel: `begin` waits until the open transaction ends.
/// One difference: a read outside the transaction on the thread that holds it sees the
/// transaction's uncommitted rows (the kernel reads from a separate connection there).
final class MemoryDatabase: @unchecked Sendable {
    private let connection: OpaquePointer
    private let prefixGuard: TablePrefixGuard
    /// Held by the open transaction, or by one autocommit statement.
    private let writer = DispatchSemaphore(value: 1)
    /// The open transaction's handle and the thread that began it (guarded by `writer`'s holder).
    private let open = Mutex<(handle: UInt64, thread: pthread_t)?>(nil)
    private let nextHandle = Atomic<UInt64>(1)
    // SQLite's connection is used by one thread at a time: whoever holds `writer`, or the
    // transaction's own thread.
    private let statementLock = NSLock()

    init(plugin: String) throws {
        var db: OpaquePointer?
        guard sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let db else {
            throw PluginError(status: 500, code: "database_error", detail: "cannot open an in-memory SQLite database")
        }
        connection = db
        prefixGuard = TablePrefixGuard(pluginName: plugin)
        sqlite3_exec(db, "PRAGMA foreign_keys = ON", nil, nil, nil)
    }

    deinit { sqlite3_close_v2(connection) }

    /// Apply the plugin's migrations in order, each in its own transaction, with the
    /// kernel's checks: versions increase, every table carries the prefix.
    func migrate(_ migrations: [Migration]) throws {
        var last = 0
        for migration in migrations {
            guard migration.version > last else {
                throw PluginError(status: 500, code: "migration_failed", detail: "migration versions must increase: \(migration.version) follows \(last)")
            }
            last = migration.version
            if let violation = prefixGuard.violation(in: migration.sql) {
                throw PluginError(status: 500, code: "migration_failed", detail: "migration \(migration.version): \(violation)")
            }
            let handle = try begin()
            do {
                _ = try execute(txn: handle, migration.sql, [])
                try commit(handle)
            } catch {
                rollback(handle)
                throw PluginError(status: 500, code: "migration_failed", detail: "migration \(migration.version) failed: \(error)")
            }
        }
    }

    // MARK: - Transactions

    func begin() throws -> UInt64 {
        try refuseWithOpenTransaction()
        writer.wait()
        let handle = nextHandle.add(1, ordering: .relaxed).oldValue
        open.withLock { $0 = (handle, pthread_self()) }
        try run("BEGIN IMMEDIATE")
        return handle
    }

    func commit(_ handle: UInt64) throws {
        try end(handle, "COMMIT")
    }

    func rollback(_ handle: UInt64) {
        try? end(handle, "ROLLBACK")
    }

    private func end(_ handle: UInt64, _ sql: String) throws {
        guard isOpen(handle) else { throw Self.closed(handle) }
        defer {
            open.withLock { $0 = nil }
            writer.signal()
        }
        do { try run(sql) } catch {
            try? run("ROLLBACK")
            throw error
        }
    }

    func isOpen(_ handle: UInt64) -> Bool { open.withLock { $0?.handle == handle } }

    // MARK: - Statements

    /// Run SQL (several statements allowed) with `?` parameters; `txn` 0 commits on its own.
    func execute(txn: UInt64, _ sql: String, _ params: [SQLValue]) throws -> (changes: Int, lastInsertID: Int64) {
        try checkPrefix(sql)
        return try withConnection(txn: txn, writes: true) {
            _ = try statements(sql, params, collect: false)
            return (Int(sqlite3_changes(connection)), sqlite3_last_insert_rowid(connection))
        }
    }

    /// Rows as objects keyed by column name, in select order: integers exact, blobs as base64.
    func query(txn: UInt64, _ sql: String, _ params: [SQLValue]) throws -> [JSONValue] {
        try checkPrefix(sql)
        return try withConnection(txn: txn, writes: false) { try statements(sql, params, collect: true) }
    }

    private func checkPrefix(_ sql: String) throws {
        if let violation = prefixGuard.violation(in: sql) {
            throw PluginError(status: 403, code: "table_prefix_violation", detail: violation)
        }
    }

    private func withConnection<T>(txn: UInt64, writes: Bool, _ body: () throws -> T) throws -> T {
        if txn != 0 {
            guard isOpen(txn) else { throw Self.closed(txn) }
            return try statementLock.withLock(body)
        }
        if holdsOpenTransaction {
            if writes { try refuseWithOpenTransaction() }
            return try statementLock.withLock(body)
        }
        writer.wait()
        defer { writer.signal() }
        return try statementLock.withLock(body)
    }

    private var holdsOpenTransaction: Bool {
        open.withLock { state in state.map { pthread_equal($0.thread, pthread_self()) != 0 } ?? false }
    }

    /// The kernel's guard against a thread waiting for itself: it holds a transaction open
    /// and asks for a write outside it.
    private func refuseWithOpenTransaction() throws {
        if holdsOpenTransaction {
            throw PluginError(status: 500, code: "transaction_closed",
                              detail: "a transaction is open on this thread: run the statement in it (pass the transaction) instead of autocommit")
        }
    }

    private func run(_ sql: String) throws {
        try statementLock.withLock { _ = try statements(sql, [], collect: false) }
    }

    /// Prepare and step every statement of `sql`; parameters go to the first one that has any.
    private func statements(_ sql: String, _ params: [SQLValue], collect: Bool) throws -> [JSONValue] {
        var rows: [JSONValue] = []
        var bound = false
        try sql.withCString { start in
            var tail: UnsafePointer<CChar>? = start
            while let current = tail, current.pointee != 0 {
                var statement: OpaquePointer?
                guard sqlite3_prepare_v2(connection, current, -1, &statement, &tail) == SQLITE_OK else { throw error() }
                guard let statement else { continue }  // whitespace or a comment
                defer { sqlite3_finalize(statement) }
                if !bound, sqlite3_bind_parameter_count(statement) > 0 {
                    try bind(params, to: statement)
                    bound = true
                }
                while true {
                    let step = sqlite3_step(statement)
                    if step == SQLITE_DONE { break }
                    guard step == SQLITE_ROW else { throw error() }
                    if collect { rows.append(row(statement)) }
                }
            }
        }
        return rows
    }

    private func bind(_ params: [SQLValue], to statement: OpaquePointer) throws {
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == params.count else {
            throw PluginError(status: 500, code: "database_error", detail: "the statement takes \(expected) parameters, \(params.count) were given")
        }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, value) in params.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, index)
            case .int(let n): sqlite3_bind_int64(statement, index, n)
            case .double(let d): sqlite3_bind_double(statement, index, d)
            case .bool(let b): sqlite3_bind_int64(statement, index, b ? 1 : 0)
            case .text(let s): sqlite3_bind_text(statement, index, s, -1, transient)
            }
        }
    }

    private func row(_ statement: OpaquePointer) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for column in 0..<sqlite3_column_count(statement) {
            let name = String(cString: sqlite3_column_name(statement, column))
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER: object[name] = .integer(sqlite3_column_int64(statement, column))
            case SQLITE_FLOAT: object[name] = .number(sqlite3_column_double(statement, column))
            case SQLITE_TEXT: object[name] = .string(String(cString: sqlite3_column_text(statement, column)))
            case SQLITE_BLOB:
                let count = Int(sqlite3_column_bytes(statement, column))
                let bytes = sqlite3_column_blob(statement, column).map { Data(bytes: $0, count: count) } ?? Data()
                object[name] = .string(bytes.base64EncodedString())
            default: object[name] = .null
            }
        }
        return .object(object)
    }

    /// The kernel's problem for a failed statement: a broken constraint is the caller's 409.
    private func error() -> PluginError {
        let message = String(cString: sqlite3_errmsg(connection))
        if sqlite3_errcode(connection) & 0xff == SQLITE_CONSTRAINT {
            return PluginError(status: 409, code: "constraint_violation", detail: message)
        }
        return PluginError(status: 500, code: "database_error", detail: message)
    }

    private static func closed(_ handle: UInt64) -> PluginError {
        PluginError(status: 500, code: "transaction_closed", detail: "transaction \(handle) is not open")
    }
}
