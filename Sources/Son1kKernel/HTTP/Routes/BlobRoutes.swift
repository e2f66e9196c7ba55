import Foundation
import Son1kPluginKit

extension KernelRoutes {
    var blobRoutes: [RouteTarget] {
        [
            route("GET", "/api/blobs/{id}", .public, "Download a blob (audio, uploads); supports Range",
                  description: "Readable by its owner, an admin, or anyone when public; otherwise 404. `Range: bytes=a-b` answers 206 with `Content-Range`; `If-None-Match` with the ETag answers 304. With an S3 blob store the answer is a 307 redirect to a presigned URL of the bucket, valid for `kernel.blobs.url_ttl_s`, where Range works the same.") { [unowned self] req in
                try serveBlob(req)
            },
        ]
    }

    func serveBlob(_ req: Request) throws -> Response {
        guard let record = try kernel.blobs.record(req.param("id")), record.readable(by: req.principal) else {
            throw PluginError.notFound("No blob \(req.param("id")) you can read.", code: "blob_not_found")
        }
        let etag = "\"\(record.sha256)\""
        var headers: [(String, String)] = [("ETag", etag), ("Accept-Ranges", "bytes"), ("Cache-Control", record.isPublic ? "public, max-age=86400" : "private, max-age=3600")]
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
