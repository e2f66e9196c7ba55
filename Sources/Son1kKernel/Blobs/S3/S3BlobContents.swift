import Foundation
import Son1kPluginKit

/// Blob contents as objects in an S3-compatible bucket, shared by every instance: requests
/// signed with ``SigV4`` and sent through the kernel's HTTP client; downloads redirected to
/// presigned GETs, so the bytes go from the bucket to the client without passing through here.
final class S3BlobContents: BlobContents {
    let settings: S3Settings
    private let signer: SigV4
    private let http: EgressClient

    /// Checks at once that the bucket answers to these credentials, so a wrong key or bucket
    /// stops start-up with a sentence instead of failing the first upload.
    init(settings: S3Settings, http: EgressClient) throws {
        self.settings = settings
        signer = SigV4(accessKeyID: settings.accessKeyID, secretAccessKey: settings.secretAccessKey, region: settings.region)
        self.http = http
        let answer: Answer
        do { answer = try send("HEAD", url: bucketURL) } catch {
            throw KernelConfig.Invalid(description: "cannot reach the S3 bucket \(settings.bucket) at \(settings.endpoint.absoluteString): \(Self.reason(error))")
        }
        guard answer.status == 200 else {
            throw KernelConfig.Invalid(description: "the S3 bucket \(settings.bucket) at \(settings.endpoint.absoluteString) answered \(answer.status)\(answer.status == 404 ? " (no such bucket)" : answer.status == 403 ? " (the credentials are refused)" : "")")
        }
    }

    func contains(_ key: String) throws -> Bool {
        let answer = try send("HEAD", url: url(key))
        if answer.status == 404 { return false }
        try expect(answer, 200, "look up")
        return true
    }

    func write(_ key: String, _ bytes: [UInt8], contentType: String) throws {
        try expect(send("PUT", url: url(key), headers: ["content-type": contentType], body: bytes), 200, "store")
    }

    func read(_ key: String) throws -> [UInt8] {
        let answer = try send("GET", url: url(key))
        if answer.status == 404 { throw Self.missing(key) }
        try expect(answer, 200, "read")
        return answer.body
    }

    func read(_ key: String, offset: Int, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        let answer = try send("GET", url: url(key), headers: ["range": "bytes=\(offset)-\(offset + count - 1)"])
        if answer.status == 404 { throw Self.missing(key) }
        try expect(answer, 206, "read")
        return answer.body
    }

    func remove(_ key: String) throws {
        let answer = try send("DELETE", url: url(key))
        if ![200, 204, 404].contains(answer.status) { try expect(answer, 204, "remove") }
    }

    func downloadURL(_ key: String, contentType: String) -> String? {
        signer.presign(url: url(key, query: "response-content-type=\(SigV4.encode(contentType))"), expires: settings.urlTTLSeconds, at: Date())
    }

    // MARK: - Requests

    private var bucketURL: URL {
        settings.pathStyle ? settings.endpoint.appendingPathComponent(settings.bucket) : virtualHost(path: "/")
    }

    /// The object's URL, its key percent-encoded as it is signed.
    private func url(_ key: String, query: String? = nil) -> URL {
        let path = "/" + SigV4.encodePath(settings.prefix + key)
        let base = settings.pathStyle ? "\(settings.endpoint.absoluteString)/\(SigV4.encode(settings.bucket))\(path)" : virtualHost(path: path).absoluteString
        return URL(string: query.map { "\(base)?\($0)" } ?? base)!
    }

    private func virtualHost(path: String) -> URL {
        var parts = URLComponents(url: settings.endpoint, resolvingAgainstBaseURL: false)!
        parts.host = "\(settings.bucket).\(parts.host ?? "")"
        parts.percentEncodedPath = path
        return parts.url!
    }

    private struct Answer {
        var status: Int
        var body: [UInt8]
    }

    private func send(_ method: String, url: URL, headers: [String: String] = [:], body: [UInt8] = []) throws -> Answer {
        let signed = signer.sign(method: method, url: url, headers: headers, payload: body, at: Date())
        let spec: JSONValue = [
            "method": .string(method), "url": .string(url.absoluteString), "timeout_s": 60,
            "headers": .object(signed.mapValues { .string($0) }),
        ]
        let (meta, answer) = try http.fetch(spec, body: body, allowedHosts: [url.host ?? ""])
        return Answer(status: (try? JSONValue.parse(meta))?["status"].int ?? 0, body: answer)
    }

    /// Throws a 503 naming the bucket and S3's own error code and message unless `answer` has `status`.
    private func expect(_ answer: Answer, _ status: Int, _ what: String) throws {
        guard answer.status != status else { return }
        let text = String(decoding: answer.body, as: UTF8.self)
        let code = Self.element("Code", in: text).map { " \($0)" } ?? ""
        let message = Self.element("Message", in: text).map { ": \($0)" } ?? ""
        throw PluginError(status: 503, code: "blob_store_unavailable",
                          detail: "Cannot \(what) the blob in the S3 bucket \(settings.bucket): it answered \(answer.status)\(code)\(message).")
    }

    /// The text of `<name>…</name>` in an S3 error document.
    private static func element(_ name: String, in xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex) else { return nil }
        return String(xml[start.upperBound..<end.lowerBound])
    }

    private static func reason(_ error: Error) -> String {
        (error as? PluginError)?.detail ?? "\(error)"
    }
}
