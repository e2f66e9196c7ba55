import Foundation
import Son1kPluginKit

/// Signed, expiring URLs to blobs: what an `<audio src>` or a download link can load without
/// an `Authorization` header (a browser sends none there).
///
/// `GET /api/media/{blob id}?expires=<unix seconds>&signature=<base64url>`, where the signature
/// is HMAC-SHA256 over `"<METHOD>\n<blob id>\n<expires>"` under a key derived from the
/// deployment's JWT secret, so every instance on one database signs and checks alike, and
/// rotating that secret ends every URL with every token. Whoever holds the URL may read the
/// blob until it expires: a plugin asks for one only after checking that its caller may read
/// the blob, exactly as it would before serving the bytes itself.
///
/// Expiry is rounded up to a step (a tenth of the lifetime, at most five minutes), so the
/// same blob listed twice within that step gets the same URL and the browser's cache holds.
struct MediaURLs: Sendable {
    /// Signed URLs serve reads only.
    static let method = "GET"
    static let path = "/api/media/"

    private let key: [UInt8]
    /// How long a URL works, at least.
    let lifetimeSeconds: Int
    /// `kernel.public_url` without a trailing slash; empty: URLs are relative to the API.
    let publicURL: String

    init(secret: String, lifetimeSeconds: Int, publicURL: String) {
        key = Crypto.hmacSHA256(key: Array(secret.utf8), message: Array("son1k media URLs v1".utf8))
        self.lifetimeSeconds = lifetimeSeconds
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        self.publicURL = base
    }

    /// The URL of `blobID`, valid from `now` for at least the lifetime.
    func url(for blobID: String, now: Date = Date()) -> String {
        let step = max(1, min(300, lifetimeSeconds / 10))
        let earliest = Int(now.timeIntervalSince1970) + lifetimeSeconds
        let expires = (earliest + step - 1) / step * step
        let id = blobID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? blobID
        return "\(publicURL)\(Self.path)\(id)?expires=\(expires)&signature=\(signature(blobID, expires))"
    }

    /// Throws 403 `media_url_invalid` for a missing or wrong signature, 403 `media_url_expired`
    /// once it expired. The blob's existence is the caller's next check.
    func verify(blobID: String, expires: String?, signature given: String?, now: Date = Date()) throws {
        guard let expires, let at = Int(expires), let given,
              Crypto.constantTimeEquals(Array(given.utf8), Array(signature(blobID, at).utf8)) else {
            throw PluginError(status: 403, code: "media_url_invalid",
                              detail: "This media URL is not signed by this service or was altered; ask the API for the item again to get a fresh one.")
        }
        guard at >= Int(now.timeIntervalSince1970) else {
            throw PluginError(status: 403, code: "media_url_expired",
                              detail: "This media URL expired at \(Timestamp.string(Date(timeIntervalSince1970: TimeInterval(at)))); ask the API for the item again to get a fresh one.")
        }
    }

    private func signature(_ blobID: String, _ expires: Int) -> String {
        Crypto.base64URL(Crypto.hmacSHA256(key: key, message: Array("\(Self.method)\n\(blobID)\n\(expires)".utf8)))
    }
}
