import Foundation
import Son1kPluginKit

extension KernelRoutes {
    var blobRoutes: [RouteTarget] {
        [
            route("GET", "/api/blobs/{id}", .public, "Download a blob (audio, uploads); supports Range",
                  description: "Readable by its owner, an admin, or anyone when public; otherwise 404. `Range: bytes=a-b` answers 206 with `Content-Range`; `If-None-Match` with the ETag answers 304. With an S3 blob store the answer is a 307 redirect to a presigned URL of the bucket, valid for `kernel.blobs.url_ttl_s`, where Range works the same.") { [unowned self] req in
                guard let record = try kernel.blobs.record(req.param("id")), record.readable(by: req.principal) else {
                    throw PluginError.notFound("No blob \(req.param("id")) you can read.", code: "blob_not_found")
                }
                return try serveBlob(record, req, cacheControl: record.isPublic ? "public, max-age=86400" : "private, max-age=3600")
            },
            route("GET", "/api/media/{id}", .public, "Download a blob through a signed URL, without credentials; supports Range",
                  description: "The `audio_url`, `preview_url` and other media URLs in responses lead here: `?expires=…&signature=…`, signed by the service for `kernel.media.url_ttl_s` (default 3600 s), so an `<audio src>` plays them with no `Authorization` header. 403 `media_url_invalid` when the signature is missing or altered, 403 `media_url_expired` after expiry, 404 `blob_not_found` once the blob is deleted. Range (206), `If-None-Match` (304), `ETag` and `Content-Type` as at `/api/blobs/{id}`.") { [unowned self] req in
                let now = kernel.clock.now
                try kernel.media.verify(blobID: req.param("id"), expires: req.query("expires"), signature: req.query("signature"), now: now)
                guard let record = try kernel.blobs.record(req.param("id")) else {
                    throw PluginError.notFound("The blob \(req.param("id")) no longer exists.", code: "blob_not_found")
                }
                // Cacheable by the browser while the URL works, never by a shared cache.
                let remaining = max(0, (Int(req.query("expires") ?? "") ?? 0) - Int(now.timeIntervalSince1970))
                return try serveBlob(record, req, cacheControl: "private, max-age=\(remaining)")
            },
        ]
    }

    /// The bytes of a blob the caller may read: whole, a range, 304, or (S3) a redirect.
    func serveBlob(_ record: BlobRecord, _ req: Request, cacheControl: String) throws -> Response {
        let etag = "\"\(record.sha256)\""
        var headers: [(String, String)] = [("ETag", etag), ("Accept-Ranges", "bytes"), ("Cache-Control", cacheControl)]
        if let match = req.headers["if-none-match"], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0 == "*" }) {
            return Response(status: 304, headers: headers)
        }
        if let url = kernel.blobs.downloadURL(record) {
            // The bucket serves the bytes, Range included; the URL works for `url_ttl_s`, so
            // the redirect itself is never cached.
            return Response(status: 307, headers: [("Location", url), ("ETag", etag), ("Cache-Control", "no-store")])
        }
        headers.append(("Content-Type", record.contentType))
        switch ByteRange.parse(req.headers["range"], size: record.size) {
        case .unsatisfiable:
            throw PluginError(status: 416, code: "range_not_satisfiable", detail: "The blob has \(record.size) bytes.",
                              headers: ["Content-Range": "bytes */\(record.size)"])
        case .full:
            let (_, bytes) = try kernel.blobs.read(record.id)
            return Response(status: 200, headers: headers, body: bytes)
        case .partial(let lower, let upper):
            let bytes = try kernel.blobs.read(record, offset: lower, count: upper - lower + 1)
            headers.append(("Content-Range", "bytes \(lower)-\(lower + bytes.count - 1)/\(record.size)"))
            return Response(status: 206, headers: headers, body: bytes)
        }
    }
}
