import Foundation
import NIOCore
import PostgresNIO
import Son1kPluginKit
import Synchronization

/// The kernel's storage on PostgreSQL, selected by `DATABASE_URL=postgres://…`.
///
/// Unlike SQLite there is no single writer: every transaction has a connection of its own
/// and they run in parallel. To keep the promises plugins were written against on SQLite —
/// where transactions never interleave — a transaction runs at **SERIALIZABLE** unless it
/// asks for ``Isolation/readCommitted`` (the queue's and the outbox's bookkeeping, whose
/// every decision is one conditional statement under a row lock): when
/// two concurrent ones could not have run one after the other, PostgreSQL fails one with a
/// serialisation error (``StorageError/Kind/conflict``), which the kernel retries where the
/// transaction is its own (``Storage/transaction(attempts:_:)``) and reports as 409 where it
/// is a plugin's.
///
/// Two pools, so a thread that holds a transaction and reads outside it (as SQLite allows)
/// can never wait for itself: transactions lease from one, single statements from the other.
///
/// Statements are translated from the portable dialect (``PostgresSQL``); an `INSERT` into a
/// table with an identity column (`INTEGER PRIMARY KEY` in the portable spelling) returns that
/// column, so ``StorageChanges/lastInsertID`` means what SQLite's `last_insert_rowid()` does.
public final class PostgresStorage: Storage, @unchecked Sendable {
    public let dialect = "postgres"
    public let location: PostgresLocation
    let transactions: PostgresPool
    let statements: PostgresPool
    let transactionTimeout: Double
    /// How long a caller waits for a free connection before the request fails with 503.
    let leaseTimeout: Double
    let watchdog: TransactionWatchdog

    /// Translations by SQL text (plugins run the same statements over and over), bounded.
    private let translations = Mutex<[String: [PostgresSQL.Statement]]>([:])
    /// The identity column of each table seen in an INSERT, or nil when it has none.
    private let identities = Mutex<[String: String?]>([:])

    /// Connect; fails at once, naming host and port, when the server cannot be reached or
    /// refuses the credentials (no pool retrying in the background).
    public init(url: String, transactionTimeout: Double = 30, leaseTimeout: Double = 10) throws {
        location = try PostgresLocation(url: url)
        try location.probe()
        transactions = PostgresPool(configuration: location.configuration(maximumConnections: location.transactionConnections), name: "transactions")
        statements = PostgresPool(configuration: location.configuration(maximumConnections: location.statementConnections), name: "statements")
        self.transactionTimeout = transactionTimeout
        self.leaseTimeout = leaseTimeout
        watchdog = TransactionWatchdog(interval: min(1, max(0.05, transactionTimeout / 10)))
    }

    public func execute(_ sql: String, _ params: [SQLValue]) throws -> StorageChanges {
        try single { lease in try run(lease, sql, params).changes }
    }

    public func query(_ sql: String, _ params: [SQLValue]) throws -> [StorageRow] {
        try single { lease in try run(lease, sql, params).rows.map(PostgresValues.row) }
    }

    public func queryJSON(_ sql: String, _ params: [SQLValue]) throws -> [UInt8] {
        try single { lease in PostgresValues.jsonArray(try run(lease, sql, params).rows) }
    }

    /// A single statement commits on its own: no different from a query here.
    public func writeReturning(_ sql: String, _ params: [SQLValue]) throws -> [StorageRow] {
        try query(sql, params)
    }

    public func begin(isolation: Isolation) throws -> any StorageTransaction {
        try PostgresTransaction(storage: self, isolation: isolation)
    }

    public func close() {
        transactions.close()
        statements.close()
    }

    // MARK: - Statements

    /// A connection from `pool`, or 503 when none is free in time.
    func lease(from pool: PostgresPool) throws -> PostgresPool.Lease {
        do {
            if let lease = try pool.lease(timeout: leaseTimeout) { return lease }
        } catch {
            throw Self.classify(error, location: location)
        }
        throw StorageError(kind: .unavailable, message: "no PostgreSQL connection (\(location.hostAndPort)) became free within \(Int(leaseTimeout)) s; try again")
    }

    /// Run a single statement on a connection of the statement pool. It runs in a
    /// transaction of its own: one that conflicted with another did nothing, so it simply
    /// runs again.
    private func single<T>(_ body: (PostgresPool.Lease) throws -> T) throws -> T {
        try ConflictBackoff.retrying {
            let lease = try lease(from: statements)
            defer { lease.release() }
            return try body(lease)
        }
    }

    /// Send one query on `lease`, its failure classified.
    func send(_ lease: PostgresPool.Lease, _ query: PostgresQuery) throws -> PostgresQueryResult {
        do {
            return try lease.query(query)
        } catch {
            throw Self.classify(error, location: location)
        }
    }

    /// Run `sql` (one statement, or a script of several without parameters) on `lease`.
    func run(_ lease: PostgresPool.Lease, _ sql: String, _ params: [SQLValue]) throws -> (changes: StorageChanges, rows: [PostgresRow]) {
        let translated = translate(sql)
        guard !translated.isEmpty else { return (StorageChanges(changes: 0, lastInsertID: 0), []) }
        if translated.count > 1, !params.isEmpty {
            throw StorageError(kind: .misuse, message: "a script of several statements takes no parameters")
        }
        var changes = StorageChanges(changes: 0, lastInsertID: 0)
        var rows: [PostgresRow] = []
        for statement in translated {
            if translated.count == 1, statement.parameterCount != params.count {
                throw StorageError(kind: .misuse, message: "the statement has \(statement.parameterCount) placeholders but \(params.count) values were given")
            }
            var text = statement.sql
            var identity: String?
            if statement.verb == "INSERT", !statement.returns, let table = statement.insertTable {
                identity = try identityColumn(of: table, lease)
                if let identity { text += " RETURNING \"\(identity)\"" }
            }
            let result = try send(lease, PostgresQuery(unsafeSQL: text, binds: translated.count == 1 ? PostgresValues.bindings(params) : PostgresBindings()))
            changes.changes = result.metadata.rows ?? 0
            if identity != nil {
                if let cell = result.rows.last?.first, let id = PostgresValues.json(cell).int { changes.lastInsertID = Int64(id) }
            } else {
                rows = result.rows
            }
        }
        return (changes, rows)
    }

    private func translate(_ sql: String) -> [PostgresSQL.Statement] {
        if let known = translations.withLock({ $0[sql] }) { return known }
        let translated = PostgresSQL.translate(sql)
        translations.withLock { if $0.count < 8192 { $0[sql] = translated } }
        return translated
    }

    /// The identity column of `table`, read from the catalog once per table.
    private func identityColumn(of table: String, _ lease: PostgresPool.Lease) throws -> String? {
        if let known = identities.withLock({ $0[table] }) { return known }
        let result = try send(lease, PostgresQuery(unsafeSQL: """
            SELECT to_regclass($1) IS NOT NULL AS known,
                   (SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attidentity <> '' AND NOT attisdropped LIMIT 1) AS name
            """, binds: PostgresValues.bindings([.text(table)])))
        guard let row = result.rows.first.map(PostgresValues.row), row["known"]?.int == 1 else { return nil }
        let name = row["name"]?.string
        identities.withLock { $0[table] = .some(name) }
        return name
    }

    // MARK: - Errors

    /// A PostgreSQL failure as the kernel's kinds, by SQLSTATE.
    static func classify(_ error: any Error, location: PostgresLocation) -> StorageError {
        if let error = error as? StorageError { return error }
        guard let error = error as? PSQLError else {
            return StorageError(kind: .unavailable, message: "PostgreSQL at \(location.hostAndPort): \(error)")
        }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            var message = error.serverInfo?[.message] ?? "PostgreSQL error \(state)"
            if let detail = error.serverInfo?[.detail] { message += " (\(detail))" }
            switch state {
            case let s where s.hasPrefix("23"): return StorageError(kind: .constraint, message: message)
            case "40001", "40P01": return StorageError(kind: .conflict, message: "another transaction changed the same rows at the same time (\(message)); try again")
            case "55P03", "57014": return StorageError(kind: .busy, message: message)
            case let s where s.hasPrefix("08") || s.hasPrefix("57P"): return StorageError(kind: .unavailable, message: "PostgreSQL at \(location.hostAndPort) is unavailable: \(message)")
            case "25P02": return StorageError(kind: .closed, message: "an earlier statement failed, so the transaction was aborted: \(message)")
            default: return StorageError(kind: .failed, message: message)
            }
        case .serverClosedConnection, .connectionError, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return StorageError(kind: .unavailable, message: "lost the connection to PostgreSQL at \(location.hostAndPort); try again")
        default:
            return StorageError(kind: .failed, message: "PostgreSQL at \(location.hostAndPort): \(error.code)")
        }
    }
}
