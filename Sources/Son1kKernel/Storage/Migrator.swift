import Son1kPluginKit

/// Applies ordered migrations and records `(owner, version, checksum)` in
/// `kernel_migrations`, so each runs once and an applied migration that was edited
/// afterwards is detected instead of silently diverging.
public struct Migrator: Sendable {
    let storage: any Storage

    public init(storage: any Storage) { self.storage = storage }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Create the ledger itself (idempotent). Two PostgreSQL instances starting on a new
    /// database at once can both try; the one whose CREATE loses finds the other's table.
    public func prepareLedger() throws {
        do {
            _ = try storage.execute("""
                CREATE TABLE IF NOT EXISTS kernel_migrations (
                    owner TEXT NOT NULL, version INTEGER NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL,
                    PRIMARY KEY (owner, version))
                """)
        } catch {
            guard (try? storage.query("SELECT 1 AS ok FROM kernel_migrations LIMIT 1", [])) != nil else { throw error }
        }
    }

    /// Apply `owner`'s pending migrations in order, each in its own transaction.
    /// Returns the versions applied now. Throws, naming the version and the reason, when a
    /// recorded migration was edited, versions are not increasing, a statement touches
    /// another owner's tables, or a migration fails (that one is rolled back).
    @discardableResult
    package func migrate(owner: String, _ migrations: [Migration], guard prefixGuard: TablePrefixGuard?) throws -> [Int] {
        var last = 0
        for m in migrations {
            guard m.version > last else {
                throw Failure(description: "migration versions must increase: \(m.version) follows \(last)")
            }
            last = m.version
        }
        let rows = try storage.query("SELECT version, checksum FROM kernel_migrations WHERE owner = ?", [.text(owner)])
        var recorded: [Int: String] = [:]
        for row in rows { if let v = row["version"]?.int, let c = row["checksum"]?.string { recorded[v] = c } }

        var applied: [Int] = []
        for m in migrations {
            let checksum = Crypto.sha256Hex(Array(m.sql.utf8))
            if let existing = recorded[m.version] {
                guard existing == checksum else {
                    throw Failure(description: "migration \(m.version) was edited after it was applied (recorded sha256 \(existing.prefix(12))…, now \(checksum.prefix(12))…); add a new migration instead")
                }
                continue
            }
            if let prefixGuard, let violation = prefixGuard.violation(in: m.sql) {
                throw Failure(description: "migration \(m.version): \(violation)")
            }
            let appliedMeanwhile: String?
            do {
                appliedMeanwhile = try storage.transaction { tx -> String? in
                    if storage.dialect == "postgres" {
                        // Instances starting at once take turns here. LOCK TABLE comes before
                        // any read, so this transaction's snapshot, taken at its first query,
                        // includes what the one before it committed (PostgreSQL's LOCK TABLE
                        // docs); SQLite's one writer already orders migrations.
                        _ = try tx.execute("LOCK TABLE kernel_migrations IN SHARE ROW EXCLUSIVE MODE", [])
                    }
                    let done = try tx.query("SELECT checksum FROM kernel_migrations WHERE owner = ? AND version = ?",
                                            [.text(owner), .int(Int64(m.version))]).first?["checksum"]?.string
                    guard done == nil else { return done }
                    _ = try tx.execute(m.sql, [])
                    _ = try tx.execute("INSERT INTO kernel_migrations (owner, version, checksum, applied_at) VALUES (?, ?, ?, ?)",
                                       [.text(owner), .int(Int64(m.version)), .text(checksum), .text(Timestamp.now())])
                    return nil
                }
            } catch {
                throw Failure(description: "migration \(m.version) failed and was rolled back: \(error)")
            }
            if let appliedMeanwhile {
                // Another instance applied it between the ledger read above and now.
                guard appliedMeanwhile == checksum else {
                    throw Failure(description: "migration \(m.version) was applied by another instance with different SQL (sha256 \(appliedMeanwhile.prefix(12))…, here \(checksum.prefix(12))…); run one version of son1k per database")
                }
                continue
            }
            applied.append(m.version)
        }
        return applied
    }
}
