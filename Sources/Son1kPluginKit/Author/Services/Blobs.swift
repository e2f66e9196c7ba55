import CSon1kABI
import Foundation

/// Content-addressed file storage owned by the kernel (audio, uploads).
public struct Blobs: Sendable {
    let host: HostBridge

    /// Store bytes. `ownerID` may read it through `GET /api/blobs/{id}`; `isPublic` lets anyone.
    public func put(_ bytes: [UInt8], contentType: String, ownerID: String? = nil, isPublic: Bool = false) throws -> BlobInfo {
        var meta: JSONValue = ["content_type": .string(contentType), "public": .bool(isPublic)]
        if let ownerID { meta["owner_id"] = .string(ownerID) }
        let text = meta.jsonString
        let out = try host.call { ctx, out in
            withUTF8Pointer(text) { m, ml in withBytesPointer(bytes) { b, bl in host.api.pointee.blob_put!(ctx, m, ml, b, bl, out) } }
        }
        return try JSONDecoder().decode(BlobInfo.self, from: Data(out))
    }

    /// Read a blob's metadata and bytes.
    public func get(_ id: String) throws -> (info: BlobInfo, bytes: [UInt8]) {
        var metaOut = emptyBuffer()
        var dataOut = emptyBuffer()
        let status = withUTF8Pointer(id) { i, il in host.api.pointee.blob_get!(host.ctx, i, il, &metaOut, &dataOut) }
        let meta = host.take(&metaOut)
        let data = host.take(&dataOut)
        guard status == Int32(SON1K_OK) else { throw HostBridge.error(status: status, problem: meta) }
        return (try JSONDecoder().decode(BlobInfo.self, from: Data(meta)), data)
    }

    /// A URL a browser loads without credentials (`<audio src>`, a download link): signed by
    /// the kernel, expiring after `kernel.media.url_ttl_s`, nil when the blob does not exist.
    /// Whoever holds it may read the blob until then: ask only for a caller who may read it.
    ///
    /// ```swift
    /// let audioURL = try ctx.blobs.url(blobID)
    /// ```
    public func url(_ id: String) throws -> String? {
        try urls([id])[id]
    }

    /// Signed URLs of several blobs in one call (a page of items; at most 500), by id;
    /// blobs that do not exist are left out.
    public func urls(_ ids: some Collection<String>) throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let answer = try host.callService(Service<BlobURLsRequest, BlobURLs>.blobURLs.name, JSONValue.from(BlobURLsRequest(blobIds: Array(ids))))
        return try JSONValueDecoder.decode(BlobURLs.self, from: answer).urls
    }

    /// Delete a blob.
    public func delete(_ id: String) throws {
        _ = try host.call { ctx, out in withUTF8Pointer(id) { i, il in host.api.pointee.blob_delete!(ctx, i, il, out) } }
    }
}

func emptyBuffer() -> son1k_buffer_t { son1k_buffer_t(data: nil, len: 0) }
