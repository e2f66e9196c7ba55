import enum Crypto.AES
import struct Crypto.SymmetricKey

extension Crypto {
    /// A sealed value could not be opened: wrong key, or bytes changed since sealing.
    public struct OpenError: Error, CustomStringConvertible {
        public var description: String { "the sealed value does not open with this key (wrong key or altered data)" }
    }

    /// Encrypts and authenticates `plaintext` with AES-256-GCM under a 32-byte `key`.
    /// Returns nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes); a fresh random nonce each call.
    /// `associatedData` is authenticated but not stored: pass the same bytes to ``open``
    /// (e.g. the row id, so a sealed value cannot be moved to another row).
    ///
    /// ```swift
    /// let key = Crypto.sha256(Array(ctx.config.encryptionKey.utf8))
    /// let sealed = Crypto.seal(Array(credential.utf8), key: key, associatedData: Array(accountID.utf8))
    /// let opened = try Crypto.open(sealed, key: key, associatedData: Array(accountID.utf8))
    /// ```
    public static func seal(_ plaintext: [UInt8], key: [UInt8], associatedData: [UInt8] = []) -> [UInt8] {
        precondition(key.count == 32, "AES-256-GCM needs a 32-byte key")
        // A 32-byte key and the default 12-byte nonce cannot fail; `combined` is then present.
        let box = try! AES.GCM.seal(plaintext, using: SymmetricKey(data: key), authenticating: associatedData)
        return Array(box.combined!)
    }

    /// Decrypts what ``seal`` produced; throws ``OpenError`` unless key, bytes and
    /// `associatedData` are exactly those it was sealed with.
    public static func open(_ sealed: [UInt8], key: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        guard key.count == 32, sealed.count >= 28 else { throw OpenError() }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            return Array(try AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: associatedData))
        } catch {
            throw OpenError()
        }
    }
}
