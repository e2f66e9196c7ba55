/// One ordered schema change. Applied once; its checksum is recorded, and editing an
/// applied migration disables the plugin instead of silently diverging.
public struct Migration: Codable, Sendable, Hashable {
    /// Increasing, from 1.
    public var version: Int
    /// One or more statements, in the portable subset of SQL; tables start with the plugin's name.
    public var sql: String

    /// Migration `version`, running `sql`.
    public init(_ version: Int, _ sql: String) {
        self.version = version
        self.sql = sql
    }
}
