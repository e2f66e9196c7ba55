import Foundation
import GRDB
import Son1kKernel
import Son1kPluginKit

/// Read-only looks into a test deployment's database, on whichever backend it runs: what
/// end-to-end tests check was recorded (event counts, rows left behind). Each call opens and
/// closes its own connection, on a thread of its own, so it works while the kernel runs, after
/// it was killed, and between restarts.
extension TestKernel {
    /// The rows `sql` reads (`?` placeholders; the portable subset, or ``jsonField(_:_:)``).
    func rows(_ sql: String, _ params: [SQLValue] = []) async throws -> [StorageRow] {
        let backend = backend, url = environment["DATABASE_URL"] ?? "", path = directory.appendingPathComponent("data/son1k.db").path
        return try await onThreads(1) { _ in
            Result { () throws -> [StorageRow] in
                switch backend {
                case .sqlite: return try Self.sqliteRows(path: path, sql, params)
                case .postgres:
                    let storage = try PostgresStorage(url: url)
                    defer { storage.close() }
                    return try storage.query(sql, params)
                }
            }
        }[0].get()
    }

    /// The one column of each row `sql` reads.
    func values(_ sql: String, _ params: [SQLValue] = []) async throws -> [JSONValue] {
        try await rows(sql, params).map { row in
            guard row.count == 1, let value = row.values.first else { throw TestFailure("expected one column, got \(row.keys.sorted()) from \(sql)") }
            return value
        }
    }

    /// The one integer `sql` reads (a `COUNT(*)`); nil when it read no row or NULL.
    func integer(_ sql: String, _ params: [SQLValue] = []) async throws -> Int? {
        try await values(sql, params).first?.int
    }

    /// SQL for the field `key` of the JSON text in `column`, in this deployment's dialect.
    func jsonField(_ column: String, _ key: String) -> String {
        switch backend {
        case .sqlite: return "json_extract(\(column), '$.\(key)')"
        case .postgres: return "(\(column)::jsonb ->> '\(key)')"
        }
    }

    private static func sqliteRows(path: String, _ sql: String, _ params: [SQLValue]) throws -> [StorageRow] {
        var config = Configuration()
        config.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: config)
        let arguments = StatementArguments(params.map { (value: SQLValue) -> (any DatabaseValueConvertible)? in
            switch value {
            case .null: return nil
            case .int(let v): return v
            case .double(let v): return v
            case .text(let v): return v
            case .bool(let v): return v
            }
        })
        return try queue.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                var out: StorageRow = [:]
                for (name, value) in row {
                    switch value.storage {
                    case .null: out[name] = .null
                    case .int64(let v): out[name] = .integer(v)
                    case .double(let v): out[name] = .number(v)
                    case .string(let v): out[name] = .string(v)
                    case .blob(let v): out[name] = .string(v.base64EncodedString())
                    }
                }
                return out
            }
        }
    }
}
