import CSon1kABI
import Foundation

/// Metadata of a stored blob. Served to clients at `GET /api/blobs/{id}`.
public struct BlobInfo: Sendable, Codable, Hashable {
    /// Served at `/api/blobs/{id}`.
    public var id: String
    /// The content's SHA-256, hex: the blob's `ETag`.
    public var sha256: String
    /// Bytes.
    public var size: Int
    /// The media type it is served with.
    public var contentType: String

    /// A blob's description.
    public init(id: String, sha256: String, size: Int, contentType: String) {
        self.id = id
        self.sha256 = sha256
        self.size = size
        self.contentType = contentType
    }

    enum CodingKeys: String, CodingKey { case id, sha256, size, contentType = "content_type" }
}
