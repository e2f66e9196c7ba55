import CSon1kABI
import Foundation

/// The plugin's access to the kernel's database.
///
/// Statements use the portable SQL subset (SQLite and PostgreSQL) with `?` placeholders.
/// Every table a statement touches must start with the plugin's name and `_`
/// (`hello_greetings`); the kernel refuses anything else.
///
/// A `Database` is either autocommit (`ctx.db`: each statement commits on its own) or
/// bound to a transaction (the value ``transaction(_:)`` passes to its closure, and `ctx.db`
/// inside a hook handler, which is the publisher's transaction).
///
/// Thread safety: a `Database` value may be used from any thread; statements of one
/// transaction must not run concurrently.
///
/// ```swift
/// try ctx.db.transaction { tx in
///     try tx.exec("INSERT INTO plays_counts VALUES (?, 1)", [.text(id)])
///     try ctx.publishAction(.counted, Counted(songId: id), in: tx)
/// }
/// ```
public struct Database: Sendable {
    let host: HostBridge
    /// 0 for autocommit.
    let txn: UInt64

    /// True when bound to a transaction.
    public var inTransaction: Bool { txn != 0 }

    /// The dialect of the kernel's database. A kernel older than ABI 1.4 has only SQLite.
    public var dialect: SQLDialect {
        guard let name = host.function(\.db_dialect)?(host.ctx) else { return .sqlite }
        return SQLDialect(rawValue: String(cString: name)) ?? .sqlite
    }

    /// Execute one statement.
    @discardableResult
    public func exec(_ sql: String, _ params: [SQLValue] = []) throws -> ExecResult {
        // Parsed by hand: statements of a transaction run while it holds the database's
        // writer, so every microsecond here is one every other writer waits for.
        let out = try JSONValue.parse(try run(sql, params, host.api.pointee.db_exec!))
        return ExecResult(changes: out["changes"].int ?? 0, lastInsertId: Int64(out["last_insert_id"].double ?? 0))
    }

    /// Run a query; each row is a JSON object keyed by column name.
    public func query(_ sql: String, _ params: [SQLValue] = []) throws -> [JSONValue] {
        let out = try run(sql, params, host.api.pointee.db_query!)
        return try JSONValue.parse(out).array ?? []
    }

    /// Run a query and decode each row (column names in snake_case map to camelCase properties).
    public func query<T: Decodable>(_ type: T.Type, _ sql: String, _ params: [SQLValue] = []) throws -> [T] {
        let out = try run(sql, params, host.api.pointee.db_query!)
        return try JSONValueDecoder.decode([T].self, from: JSONValue.parse(out))
    }

    /// The first row of a query, decoded, or `nil`.
    public func queryOne<T: Decodable>(_ type: T.Type, _ sql: String, _ params: [SQLValue] = []) throws -> T? {
        try query(T.self, sql, params).first
    }

    /// Run `body` in a transaction: committed when it returns, rolled back when it throws
    /// (the error is rethrown). Called on a transaction-bound `Database`, `body` joins it.
    ///
    /// On PostgreSQL concurrent transactions run in parallel, and one that could not have run
    /// one after the other with another fails with 409 `transaction_conflict`. Nothing of it
    /// was written, so `body` simply **runs again** (after a short random pause, up to
    /// ``conflictAttempts`` times): keep work that must not repeat — an outbound HTTP call —
    /// outside `body`, and let what it decides depend only on what it reads in it.
    ///
    /// `isolation` is ``Isolation/serializable`` unless every decision `body` makes is one
    /// conditional statement (see ``Isolation``): a queue worker's report, a counter's
    /// `n = n + 1`. A transaction that `body` joins keeps the level it began with.
    public func transaction<T>(isolation: Isolation = .serializable, _ body: (Database) throws -> T) throws -> T {
        if txn != 0 { return try body(self) }
        return try ConflictRetry.retrying(isConflict: { ($0 as? PluginError)?.code == ConflictRetry.code }) { try once(isolation, body) }
    }

    /// How many times ``transaction(_:)`` runs a body whose transaction keeps conflicting.
    public static let conflictAttempts = ConflictRetry.attempts

    private func once<T>(_ isolation: Isolation, _ body: (Database) throws -> T) throws -> T {
        var handle: UInt64 = 0
        if isolation != .serializable, let begin = host.function(\.db_begin_isolated) {
            _ = try host.call { ctx, out in begin(ctx, isolation.rawValue, &handle, out) }
        } else {
            // A kernel before ABI 1.5 knows one level: serializable, stricter than asked.
            _ = try host.call { ctx, out in host.api.pointee.db_begin!(ctx, &handle, out) }
        }
        let tx = Database(host: host, txn: handle)
        let result: T
        do {
            result = try body(tx)
        } catch {
            _ = host.api.pointee.db_rollback!(host.ctx, handle)
            throw error
        }
        _ = try host.call { ctx, out in host.api.pointee.db_commit!(ctx, handle, out) }
        return result
    }

    typealias Statement = @convention(c) (
        OpaquePointer?, UInt64, UnsafePointer<CChar>?, Int, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<son1k_buffer_t>?
    ) -> son1k_status_t

    private func run(_ sql: String, _ params: [SQLValue], _ fn: Statement) throws -> [UInt8] {
        let paramsJSON = params.isEmpty ? "" : JSONValue.array(params.map(\.json)).jsonString
        return try host.call { ctx, out in
            withUTF8Pointer(sql) { s, sl in
                withUTF8Pointer(paramsJSON) { p, pl in fn(ctx, txn, s, sl, p, pl, out) }
            }
        }
    }
}
