/// The SQL dialect of the kernel's database (``Database/dialect``).
///
/// Write the portable subset (docs/PLUGINS.md) and the same statement runs on both; branch on
/// the dialect only for the rare statement that must be spelled differently:
///
/// ```swift
/// let field = ctx.db.dialect == .postgres ? "data::jsonb->>'title'" : "json_extract(data, '$.title')"
/// ```
public enum SQLDialect: String, Sendable, CaseIterable {
    /// The embedded database (the default deployment, and ``Son1kPluginTesting``'s host).
    case sqlite
    /// PostgreSQL (`DATABASE_URL=postgres://…`).
    case postgres
}
