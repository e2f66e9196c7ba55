import CSon1kABI
import Foundation

/// The outcome of ``Database/exec(_:_:)``.
public struct ExecResult: Sendable, Decodable {
    /// Rows inserted, updated or deleted.
    public var changes: Int
    /// The rowid of the last row inserted (SQLite's `last_insert_rowid()`).
    public var lastInsertId: Int64

    enum CodingKeys: String, CodingKey { case changes, lastInsertId = "last_insert_id" }
}
