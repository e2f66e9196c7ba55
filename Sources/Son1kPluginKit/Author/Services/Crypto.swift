import Foundation
import struct Crypto.HMAC
import struct Crypto.SHA256
import struct Crypto.SymmetricKey

/// Hashes, MACs and randomness for the kernel and for plugins (a webhook's HMAC signature, a
/// token's hash), on swift-crypto: a plugin needs no system cryptography headers to build.
///
/// ```swift
/// let signature = Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: Array("\(timestamp).".utf8) + body))
/// let matches = Crypto.constantTimeEquals(Array(signature.utf8), Array(expected.utf8))
/// ```
public enum Crypto {
    /// SHA-256 of `bytes`, lower-case hex.
    public static func sha256Hex<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        hex(sha256(bytes))
    }

    /// SHA-256 of `bytes` (32 bytes).
    public static func sha256<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        Array(SHA256.hash(data: Array(bytes)))
    }

    /// HMAC-SHA256 of `message` under `key` (32 bytes).
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// Cryptographically secure random bytes. Eight at a time from the system's generator: it
    /// makes one system call per value drawn, and request ids draw on every request.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        var out = [UInt8]()
        out.reserveCapacity(count + 7)
        while out.count < count { withUnsafeBytes(of: rng.next() as UInt64) { out.append(contentsOf: $0) } }
        return Array(out.prefix(count))
    }

    /// A random URL-safe token of `bytes` bytes of entropy.
    public static func randomToken(_ bytes: Int = 24) -> String { base64URL(randomBytes(bytes)) }

    /// Compare two byte strings in time independent of where they differ.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// Lower-case hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Base64url without padding (RFC 4648 §5), mapped byte by byte (this runs for every
    /// authenticated request, so without Foundation string bridging).
    public static func base64URL(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        for b in Data(bytes).base64EncodedData() {
            switch b {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): out.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of base64url text (padded or not); nil when it is not base64url.
    public static func base64URLDecode(_ text: Substring) -> [UInt8]? {
        var standard: [UInt8] = text.utf8.map { b in
            b == UInt8(ascii: "-") ? UInt8(ascii: "+") : b == UInt8(ascii: "_") ? UInt8(ascii: "/") : b
        }
        while standard.count % 4 != 0 { standard.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(standard)).map(Array.init)
    }
}
