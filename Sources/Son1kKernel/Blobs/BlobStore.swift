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

/// Blobs by content address, with metadata in `kernel_blobs`. Identical content is stored
/// once; each `put` gets its own id, owner and visibility. The contents live in a
/// ``BlobContents``: files under a folder by default, an S3 bucket for several instances.
public final class BlobStore: Sendable {
    let storage: any Storage
    let contents: any BlobContents

    init(storage: any Storage, contents: any BlobContents) {
        self.storage = storage
        self.contents = contents
    }

    /// The contents `kernel.blobs` names: the S3 bucket when there is one, else `blobsPath`.
    static func contents(for settings: KernelSettings, http: EgressClient) throws -> any BlobContents {
        if let s3 = settings.s3 { return try S3BlobContents(settings: s3, http: http) }
        return try FileBlobContents(root: settings.blobsPath)
    }

    /// Where content with this hash is kept: `aa/bb/<sha256>`, so no folder grows huge.
    static func key(for sha: String) -> String {
        "\(sha.prefix(2))/\(sha.dropFirst(2).prefix(2))/\(sha)"
    }

    public func put(_ bytes: [UInt8], contentType: String, ownerID: String?, isPublic: Bool, plugin: String) throws -> BlobInfo {
        let sha = Crypto.sha256Hex(bytes)
        let key = Self.key(for: sha)
        if try !contents.contains(key) { try contents.write(key, bytes, contentType: contentType) }
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
        return (record, try contents.read(Self.key(for: record.sha256)))
    }

    /// `count` bytes of a blob from `offset`, for a Range request.
    public func read(_ record: BlobRecord, offset: Int, count: Int) throws -> [UInt8] {
        try contents.read(Self.key(for: record.sha256), offset: offset, count: count)
    }

    /// A short-lived URL the client can download the blob from directly, or nil when the
    /// kernel serves the bytes itself. Call only after checking who may read the blob.
    public func downloadURL(_ record: BlobRecord) -> String? {
        contents.downloadURL(Self.key(for: record.sha256), contentType: record.contentType)
    }

    public func delete(_ id: String) throws {
        guard let record = try record(id) else { throw PluginError.notFound("No blob \(id).", code: "blob_not_found") }
        _ = try storage.execute("DELETE FROM kernel_blobs WHERE id = ?", [.text(id)])
        let others = try storage.query("SELECT id FROM kernel_blobs WHERE sha256 = ? LIMIT 1", [.text(record.sha256)])
        if others.isEmpty { try contents.remove(Self.key(for: record.sha256)) }
    }
}
