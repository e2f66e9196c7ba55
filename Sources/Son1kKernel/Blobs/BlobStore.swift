import Foundation
import Son1kPluginKit

/// A stored blob's record in `kernel_blobs`.
public struct BlobRecord: Sendable {
    public var id: String
    public var ownerID: String?
    public var plugin: String
    public var contentType: String
    public var size: Int
    public var sha256: String
    public var isPublic: Bool
    public var createdAt: String

    public var info: BlobInfo { BlobInfo(id: id, sha256: sha256, size: size, contentType: contentType) }

    /// Who may read it: the public, its owner, an admin.
    public func readable(by principal: Principal?) -> Bool {
        isPublic || principal?.isAdmin == true || (ownerID != nil && principal?.id == ownerID)
    }
}

/// Content-addressed files under `<blob dir>/<aa>/<bb>/<sha256>` with metadata in
/// `kernel_blobs`. Identical content is stored once; each `put` gets its own id, owner and
/// visibility. Files are written to a temporary name and renamed, so a reader never sees a
/// partial file.
public final class BlobStore: Sendable {
    let storage: any Storage
    public let root: String

    public init(storage: any Storage, root: String) throws {
        self.storage = storage
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func path(for sha: String) -> String {
        "\(root)/\(sha.prefix(2))/\(sha.dropFirst(2).prefix(2))/\(sha)"
    }

    public func put(_ bytes: [UInt8], contentType: String, ownerID: String?, isPublic: Bool, plugin: String) throws -> BlobInfo {
        let sha = Crypto.sha256Hex(bytes)
        let file = path(for: sha)
        let fm = FileManager.default
        if !fm.fileExists(atPath: file) {
            try fm.createDirectory(atPath: file.deletingLastPathComponent, withIntermediateDirectories: true)
            let temp = "\(file).\(Crypto.randomToken(6)).tmp"
            guard fm.createFile(atPath: temp, contents: Data(bytes)) else {
                throw PluginError(status: 500, code: "blob_write_failed", detail: "Cannot write the blob file.")
            }
            guard rename(temp, file) == 0 else {
                try? fm.removeItem(atPath: temp)
                throw PluginError(status: 500, code: "blob_write_failed", detail: "Cannot store the blob file.")
            }
        }
        let id = IDs.make("blob")
        _ = try storage.execute("INSERT INTO kernel_blobs (id, owner_id, plugin, content_type, size, sha256, public, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                [.text(id), SQLValue(ownerID), .text(plugin), .text(contentType), .int(Int64(bytes.count)), .text(sha),
                                 .bool(isPublic), .text(Timestamp.now())])
        return BlobInfo(id: id, sha256: sha, size: bytes.count, contentType: contentType)
    }

    public func record(_ id: String) throws -> BlobRecord? {
        guard let row = try storage.query("SELECT * FROM kernel_blobs WHERE id = ?", [.text(id)]).first else { return nil }
        return BlobRecord(id: id, ownerID: row["owner_id"]?.string, plugin: row["plugin"]?.string ?? "",
                          contentType: row["content_type"]?.string ?? "application/octet-stream", size: row["size"]?.int ?? 0,
                          sha256: row["sha256"]?.string ?? "", isPublic: row["public"]?.int == 1, createdAt: row["created_at"]?.string ?? "")
    }

    public func read(_ id: String) throws -> (BlobRecord, [UInt8]) {
        guard let record = try record(id) else { throw PluginError.notFound("No blob \(id).", code: "blob_not_found") }
        guard let data = FileManager.default.contents(atPath: path(for: record.sha256)) else {
            throw PluginError(status: 500, code: "blob_missing", detail: "The blob's file is missing from storage.")
        }
        return (record, Array(data))
    }

    /// The open file of a blob, for streaming a range of it.
    public func fileHandle(for record: BlobRecord) throws -> FileHandle {
        guard let handle = FileHandle(forReadingAtPath: path(for: record.sha256)) else {
            throw PluginError(status: 500, code: "blob_missing", detail: "The blob's file is missing from storage.")
        }
        return handle
    }

    public func delete(_ id: String) throws {
        guard let record = try record(id) else { throw PluginError.notFound("No blob \(id).", code: "blob_not_found") }
        _ = try storage.execute("DELETE FROM kernel_blobs WHERE id = ?", [.text(id)])
        let others = try storage.query("SELECT id FROM kernel_blobs WHERE sha256 = ? LIMIT 1", [.text(record.sha256)])
        if others.isEmpty { try? FileManager.default.removeItem(atPath: path(for: record.sha256)) }
    }
}
