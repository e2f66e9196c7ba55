import CSystemCrypto
import Foundation

/// Hashes, MACs and randomness from the system's OpenSSL libcrypto, for the kernel and for
/// plugins (a webhook's HMAC signature, a token's hash).
public enum Crypto {
    /// SHA-256 of `bytes`, lower-case hex.
    public static func sha256Hex<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        hex(sha256(bytes))
    }

    public static func sha256<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let input = Array(bytes)
        input.withUnsafeBufferPointer { buf in
            _ = SHA256(buf.baseAddress, buf.count, &digest)
        }
        return digest
    }

    /// HMAC-SHA256 of `message` under `key`.
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                _ = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, &out, &len)
            }
        }
        return Array(out.prefix(Int(len)))
    }

    /// Cryptographically secure random bytes.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        if RAND_bytes(&out, Int32(count)) != 1 {
            var rng = SystemRandomNumberGenerator()
            for i in out.indices { out[i] = rng.next() }
        }
        return out
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

    public static func base64URLDecode(_ text: Substring) -> [UInt8]? {
        var standard: [UInt8] = text.utf8.map { b in
            b == UInt8(ascii: "-") ? UInt8(ascii: "+") : b == UInt8(ascii: "_") ? UInt8(ascii: "/") : b
        }
        while standard.count % 4 != 0 { standard.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(standard)).map(Array.init)
    }
}
