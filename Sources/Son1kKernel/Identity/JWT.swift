import Foundation
import Son1kPluginKit

/// HS256 JSON Web Tokens for users: `{sub, role, sid, iat, exp, iss: "son1k"}`, `sid` naming the
/// session (``SessionStore``) the token belongs to.
///
/// Only HS256 is accepted (a token claiming `none` or another algorithm is refused), the
/// signature is compared in constant time, and `exp` is enforced.
public struct JWTSigner: Sendable {
    let key: [UInt8]
    public let ttlSeconds: Int

    public init(secret: String, ttlSeconds: Int) {
        key = Array(secret.utf8)
        self.ttlSeconds = ttlSeconds
    }

    public struct Claims: Sendable, Equatable {
        public var subject: String
        public var role: String
        public var expiresAt: Int
        /// The session the token belongs to; nil in a token signed before sessions existed.
        public var sessionID: String?
    }

    static let header = Crypto.base64URL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))

    public func sign(subject: String, role: String, session: String, now: Date = Date()) -> String {
        let iat = Int(now.timeIntervalSince1970)
        let claims: JSONValue = [
            "sub": .string(subject), "role": .string(role), "sid": .string(session), "iat": .number(Double(iat)),
            "exp": .number(Double(iat + ttlSeconds)), "iss": "son1k",
        ]
        let signingInput = "\(Self.header).\(Crypto.base64URL(claims.bytes))"
        return "\(signingInput).\(Crypto.base64URL(Crypto.hmacSHA256(key: key, message: Array(signingInput.utf8))))"
    }

    /// The claims of a valid, unexpired token; nil otherwise.
    public func verify(_ token: String, now: Date = Date()) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = Crypto.base64URLDecode(parts[0]),
              let header = try? JSONValue.parse(headerBytes), header["alg"].string == "HS256",
              let signature = Crypto.base64URLDecode(parts[2])
        else { return nil }
        let expected = Crypto.hmacSHA256(key: key, message: Array("\(parts[0]).\(parts[1])".utf8))
        guard Crypto.constantTimeEquals(expected, signature),
              let payloadBytes = Crypto.base64URLDecode(parts[1]),
              let payload = try? JSONValue.parse(payloadBytes),
              let sub = payload["sub"].string, let role = payload["role"].string, let exp = payload["exp"].int,
              exp > Int(now.timeIntervalSince1970)
        else { return nil }
        return Claims(subject: sub, role: role, expiresAt: exp, sessionID: payload["sid"].string)
    }
}
