import Foundation
import GRDB
import Son1kPluginKit
import Synchronization

/// The embedded database: one SQLite file in WAL mode through a GRDB pool (concurrent
/// readers, one writer), with a busy timeout so other processes (the CLI) can share it,
/// and foreign keys enforced.
public final class SQLiteStorage: Storage, @unchecked Sendable {
    public let dialect = "sqlite"
    let pool: DatabasePool
    let transactionTimeout: Double
    /// The writer's turnstile and group commit (see GroupCommit).
    let turnstile = GroupCommit()

    /// Where single-statement reads run (see ``ReaderPool``).
    private let readers: ReaderPool
    /// Ends the open transaction when it outlives `transactionTimeout`.
    private let watchdog: TransactionWatchdog

    public init(path: String, transactionTimeout: Double = 30) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.foreignKeysEnabled = true
        // Explicit transactions stay open across writer accesses; `turnstile` makes it safe.
        config.allowsUnsafeTransactions = true
        config.maximumReaderCount = 8
        // WAL with synchronous=NORMAL: a commit survives a crash of the process (the outbox
        // promise); only an OS crash or power loss may lose the last commits. FULL would fsync
        // on every commit, which capped writes at a few hundred per second.
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StorageError(kind: .failed, message: "cannot open the database at \(path): \(error)")
        }
        do {
            readers = try ReaderPool(path: path, count: 8, configuration: config)
        } catch {
            throw StorageError(kind: .failed, message: "cannot open readers of the database at \(path): \(error)")
        }
        self.transactionTimeout = transactionTimeout
        watchdog = TransactionWatchdog(interval: min(1, max(0.05, transactionTimeout / 10)))
    }

    /// One statement as a transaction of its own (which may share a commit with others').
    public func execute(_ sql: String, _ params: [SQLValue]) throws -> StorageChanges {
        try transaction { tx in try tx.execute(sql, params) }
    }

    /// Through the writer: the readers' connections cannot write.
    public func writeReturning(_ sql: String, _ params: [SQLValue]) throws -> [StorageRow] {
        try transaction { tx in try tx.query(sql, params) }
    }

    /// One statement needs no explicit read transaction: SQLite reads it from one snapshot.
    /// (GRDB's `read` would add a BEGIN and a COMMIT around it.)
    public func query(_ sql: String, _ params: [SQLValue]) throws -> [StorageRow] {
        try Self.mapErrors { try readers.read { db in try Self.query(db, sql, params) } }
    }

    public func queryJSON(_ sql: String, _ params: [SQLValue]) throws -> [UInt8] {
        try Self.mapErrors { try readers.read { db in try Self.queryJSON(db, sql, params) } }
    }

    /// Every isolation is serializable here: one writer at a time.
    public func begin(isolation: Isolation) throws -> any StorageTransaction {
        try SQLiteTransaction(pool: pool, turnstile: turnstile, watchdog: watchdog, timeout: transactionTimeout)
    }

    public func close() { try? pool.close() }

    // MARK: - Statement helpers shared with SQLiteTransaction

    /// Statements are prepared once per connection and reused (plugins run the same SQL
    /// over and over); SQL holding several statements (migrations) is run as a script.
    static func execute(_ db: GRDB.Database, _ sql: String, _ params: [SQLValue]) throws -> StorageChanges {
        if let statement = try? db.cachedStatement(sql: sql) {
            try statement.execute(arguments: arguments(params))
        } else {
            try db.execute(sql: sql, arguments: arguments(params))
        }
        return StorageChanges(changes: db.changesCount, lastInsertID: db.lastInsertedRowID)
    }

    static func query(_ db: GRDB.Database, _ sql: String, _ params: [SQLValue]) throws -> [StorageRow] {
        var rows: [StorageRow] = []
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments(params))
        while let row = try cursor.next() {
            var out: StorageRow = [:]
            for (name, value) in zip(row.columnNames, row.databaseValues) { out[name] = json(value) }
            rows.append(out)
        }
        return rows
    }

    /// Rows straight to JSON bytes: no dictionary per row, columns in select order.
    static func queryJSON(_ db: GRDB.Database, _ sql: String, _ params: [SQLValue]) throws -> [UInt8] {
        let statement = try db.cachedStatement(sql: sql)
        let names: [[UInt8]] = statement.columnNames.map { name in
            var out: [UInt8] = []
            JSONValue.string(name).write(into: &out)
            out.append(UInt8(ascii: ":"))
            return out
        }
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(256)
        let cursor = try Row.fetchCursor(statement, arguments: arguments(params))
        var first = true
        while let row = try cursor.next() {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "{"))
            for (i, value) in row.databaseValues.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: names[i])
                json(value).write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    static func arguments(_ params: [SQLValue]) -> StatementArguments {
        StatementArguments(params.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .null: return nil
            case .int(let i): return i
            case .double(let d): return d
            case .text(let s): return s
            case .bool(let b): return b ? 1 : 0
            }
        })
    }

    static func json(_ value: DatabaseValue) -> JSONValue {
        switch value.storage {
        case .null: return .null
        case .int64(let i): return .number(Double(i))
        case .double(let d): return .number(d)
        case .string(let s): return .string(s)
        case .blob(let data): return .string(data.base64EncodedString())
        }
    }

    static func mapErrors<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw classify(error) }
    }

    static func classify(_ error: any Error) -> StorageError {
        if let error = error as? StorageError { return error }
        guard let error = error as? DatabaseError else { return StorageError(kind: .failed, message: "\(error)") }
        let message = error.message ?? "\(error)"
        switch error.resultCode {
        case .SQLITE_CONSTRAINT: return StorageError(kind: .constraint, message: message)
        case .SQLITE_BUSY, .SQLITE_LOCKED: return StorageError(kind: .busy, message: message)
        default: return StorageError(kind: .failed, message: message)
        }
    }
}

/// Guards against the one deadlock explicit transactions allow: a plugin thread that holds
/// an open transaction and then asks for another write (autocommit, or a second transaction)
/// would wait for itself forever. Transactions are counted per thread that began them and
/// uncounted when they end, whichever thread ends them. The host API checks it before every
/// write a plugin makes outside a transaction (plugin handlers are synchronous, so a thread
/// is a plugin call); kernel code never holds a transaction across a suspension point.
enum OpenTransactions {
    private static let counts = Mutex<[UInt: Int]>([:])

    static var currentThread: UInt { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bitPattern: UInt(pthread_self())))) }

    static func began(on thread: UInt) { counts.withLock { $0[thread, default: 0] += 1 } }

    static func ended(on thread: UInt) {
        counts.withLock { c in
            let n = (c[thread] ?? 1) - 1
            c[thread] = n > 0 ? n : nil
        }
    }

    static func refuseWriteOutsideTransaction() throws {
        let thread = currentThread
        if counts.withLock({ $0[thread] != nil }) {
            throw StorageError(kind: .misuse, message: "a transaction is open on this thread: run the statement in it (pass the transaction) instead of autocommit")
        }
    }
}
