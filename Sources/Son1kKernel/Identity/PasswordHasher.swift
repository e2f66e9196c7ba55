import CSystemCrypto
import Foundation
import Son1kPluginKit

/// bcrypt (`$2b$`) password hashes through the system's libxcrypt.
public enum PasswordHasher {
    /// bcrypt reads at most 72 bytes; longer passwords are refused rather than silently cut.
    public static let maxBytes = 72

    public static func hash(_ password: String, cost: Int) throws -> String {
        var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        let random = Crypto.randomBytes(16)
        let salted = random.withUnsafeBufferPointer { rb in
            rb.withMemoryRebound(to: CChar.self) { crypt_gensalt_rn("$2b$", UInt(cost), $0.baseAddress, Int32($0.count), &setting, Int32(setting.count)) }
        }
        guard salted != nil else { throw HashError() }
        return try crypt(password, setting: String(cString: setting))
    }

    public static func verify(_ password: String, hash: String) -> Bool {
        guard hash.hasPrefix("$2"), let computed = try? crypt(password, setting: hash) else { return false }
        return Crypto.constantTimeEquals(Array(computed.utf8), Array(hash.utf8))
    }

    struct HashError: Error {}

    static func crypt(_ password: String, setting: String) throws -> String {
        let size = MemoryLayout<crypt_data>.size
        let data = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { data.deallocate() }
        memset(data, 0, size)
        guard let out = crypt_rn(password, setting, data, Int32(size)), out.pointee != 0x2a /* "*" = failure */ else { throw HashError() }
        return String(cString: out)
    }
}
