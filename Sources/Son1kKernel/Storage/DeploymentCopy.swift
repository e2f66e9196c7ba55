import Foundation
import Logging
import Son1kPluginKit

/// `son1k copy`: a deployment's SQLite database into PostgreSQL, the step from one machine to
/// several. The target is migrated first (the kernel's and every enabled plugin's migrations,
/// as `serve` would), then every table the two share is copied in one transaction: all of it
/// or none. Rows are upserted by primary key, so copying the same source again changes
/// nothing, and a target's rows whose keys the source lacks stay. Blob records are rows like
/// any other; their contents are uploaded too when the target's blob store is another place
/// (an S3 bucket) and the source's blob folder is at hand.
///
/// The source is read as it is, never written: stop its server first, or copy a backup made
/// with `sqlite3 son1k.db ".backup copy.db"`.
public struct DeploymentCopy {
    public struct Report: Sendable {
        /// Each copied table with its row count, in the order copied.
        public var tables: [(name: String, rows: Int)] = []
        /// Tables of the source that the target lacks (a plugin not enabled there), not copied.
        public var skipped: [String] = []
        public var blobsUploaded = 0
        /// Blob records whose file the source folder did not have.
        public var blobsMissing = 0
    }

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    let sourcePath: String
    let sourceBlobs: String
    let config: KernelConfig
    let logger: Logger

    /// `from` is `sqlite:PATH` or a path; `to` a `postgres://` URL. The target's plugins and
    /// blob store are `config`'s; the source's blob folder is `blobs` or `blobs/` beside it.
    public init(from: String, to: String, blobs: String?, config: KernelConfig, logger: Logger) throws {
        let path = from.hasPrefix("sqlite:") ? String(from.dropFirst("sqlite:".count)) : from
        guard !path.isEmpty, FileManager.default.fileExists(atPath: path) else {
            throw Refused(description: "--from: there is no SQLite database at \"\(path)\"")
        }
        guard to.hasPrefix("postgres://") || to.hasPrefix("postgresql://") else {
            throw Refused(description: "--to must be a postgres:// URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
        }
        sourcePath = path
        sourceBlobs = blobs ?? (path as NSString).deletingLastPathComponent + "/blobs"
        var target = config
        target.settings.databaseURL = to
        // One transaction holds the whole copy: the watchdog must not end it.
        target.settings.transactionTimeoutSeconds = 24 * 3600
        self.config = target
        self.logger = logger
    }

    public func run(intoNonEmpty: Bool) throws -> Report {
        let source = try SQLiteStorage(path: sourcePath)
        defer { source.close() }
        for plugin in try KernelTools.migrate(config, logger: logger) where plugin["state"] == "failed" {
            throw Refused(description: "the plugin \(plugin["name"].string ?? "?") cannot migrate the target: \(plugin["reason"].string ?? "")")
        }
        let target = try KernelTools.openStorage(config.settings)
        defer { target.close() }
        let users = try target.query("SELECT COUNT(*) AS n FROM kernel_users", []).first?["n"]?.int ?? 0
        if users > 0, !intoNonEmpty {
            throw Refused(description: "the target already holds a deployment (\(users) users); pass --into-non-empty to copy into it anyway (rows with the source's keys take the source's values, the others stay)")
        }

        var report = Report()
        let targetTables = Set(try target.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()", [])
            .compactMap { $0["name"]?.string })
        let tables = try Self.inDependencyOrder(source)
        try target.transaction { tx in
            (report.tables, report.skipped) = ([], [])
            for table in tables {
                guard targetTables.contains(table) else { report.skipped.append(table); continue }
                report.tables.append((table, try copy(table, from: source, into: tx, intoNonEmpty: intoNonEmpty)))
            }
            try Self.advanceIdentities(tx)
        }
        (report.blobsUploaded, report.blobsMissing) = try copyBlobContents(source)
        return report
    }

    // MARK: - Tables

    /// The source's tables (not SQLite's own, not the migration ledger), each after the tables
    /// its foreign keys name.
    static func inDependencyOrder(_ source: SQLiteStorage) throws -> [String] {
        let names = try source.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", [])
            .compactMap { $0["name"]?.string }.filter { $0 != "kernel_migrations" }
        var ordered: [String] = []
        var placed = Set<String>()
        func place(_ name: String, _ path: Set<String>) throws {
            guard !placed.contains(name), !path.contains(name), names.contains(name) else { return }
            for key in try source.query("PRAGMA foreign_key_list(\(quoted(name)))", []) {
                if let parent = key["table"]?.string, parent != name { try place(parent, path.union([name])) }
            }
            placed.insert(name)
            ordered.append(name)
        }
        for name in names { try place(name, []) }
        return ordered
    }

    /// Copy one table's rows in pages; returns how many.
    private func copy(_ table: String, from source: SQLiteStorage, into tx: any StorageTransaction, intoNonEmpty: Bool) throws -> Int {
        let targetColumns = Set(try tx.query("SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
                                             [.text(table)]).compactMap { $0["name"]?.string })
        let info = try source.query("PRAGMA table_info(\(Self.quoted(table)))", [])
        let columns = info.compactMap { $0["name"]?.string }.filter(targetColumns.contains)
        let key = info.filter { ($0["pk"]?.int ?? 0) > 0 }.sorted { ($0["pk"]?.int ?? 0) < ($1["pk"]?.int ?? 0) }
            .compactMap { $0["name"]?.string }
        guard !columns.isEmpty else { return 0 }
        let list = columns.map(Self.quoted).joined(separator: ", ")
        let onConflict: String
        if !key.isEmpty, key.allSatisfy(columns.contains) {
            let others = columns.filter { !key.contains($0) }
            onConflict = " ON CONFLICT (\(key.map(Self.quoted).joined(separator: ", "))) "
                + (others.isEmpty ? "DO NOTHING" : "DO UPDATE SET " + others.map { "\(Self.quoted($0)) = excluded.\(Self.quoted($0))" }.joined(separator: ", "))
        } else {
            // No key to match rows by: the table becomes the source's.
            if intoNonEmpty { _ = try tx.execute("DELETE FROM \(Self.quoted(table))", []) }
            onConflict = ""
        }
        let page = max(1, min(500, 30_000 / columns.count))
        var copied = 0
        var after: Int64 = .min
        while true {
            let rows = try source.query("SELECT rowid AS copy_rowid, \(list) FROM \(Self.quoted(table)) WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                        [.int(after), .int(Int64(page))])
            guard let last = rows.last?["copy_rowid"]?.int else { break }
            let marks = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
            do {
                _ = try tx.execute("INSERT INTO \(Self.quoted(table)) (\(list)) VALUES \(Array(repeating: marks, count: rows.count).joined(separator: ", "))\(onConflict)",
                                   rows.flatMap { row in columns.map { SQLValue(row[$0] ?? .null) } })
            } catch {
                throw Refused(description: "copying \(table) (rows after rowid \(after)): \(error)")
            }
            copied += rows.count
            after = Int64(last)
        }
        return copied
    }

    /// Identity columns continue after the largest copied value, so the next insert on the
    /// target does not take an id the source already used.
    private static func advanceIdentities(_ tx: any StorageTransaction) throws {
        let identities = try tx.query("""
            SELECT table_name AS t, column_name AS c FROM information_schema.columns
            WHERE table_schema = current_schema() AND is_identity = 'YES'
            """, [])
        for row in identities {
            guard let table = row["t"]?.string, let column = row["c"]?.string else { continue }
            _ = try tx.query("""
                SELECT setval(pg_get_serial_sequence(?, ?), GREATEST((SELECT COALESCE(MAX(\(quoted(column))), 0) FROM \(quoted(table))), 1))
                """, [.text(quoted(table)), .text(column)])
        }
    }

    static func quoted(_ name: String) -> String { "\"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"" }

    // MARK: - Blob contents

    /// Upload what the target's blob store lacks from the source's folder. Nothing to do when
    /// the target keeps blobs in that same folder.
    private func copyBlobContents(_ source: SQLiteStorage) throws -> (uploaded: Int, missing: Int) {
        let from = try FileBlobContents(root: sourceBlobs)
        let to = try BlobStore.contents(for: config.settings, http: EgressClient())
        if let files = to as? FileBlobContents, URL(fileURLWithPath: files.root).standardized == URL(fileURLWithPath: from.root).standardized {
            return (0, 0)
        }
        var uploaded = 0, missing = 0
        for row in try source.query("SELECT sha256, MIN(content_type) AS content_type FROM kernel_blobs GROUP BY sha256", []) {
            guard let sha = row["sha256"]?.string else { continue }
            let key = BlobStore.key(for: sha)
            guard try !to.contains(key) else { continue }
            guard from.contains(key) else { missing += 1; continue }
            try to.write(key, try from.read(key), contentType: row["content_type"]?.string ?? "application/octet-stream")
            uploaded += 1
        }
        return (uploaded, missing)
    }
}
