import CSystemCrypto

extension Crypto {
    /// A sealed value could not be opened: wrong key, or bytes changed since sealing.
    public struct OpenError: Error, CustomStringConvertible {
        public var description: String { "the sealed value does not open with this key (wrong key or altered data)" }
    }

    /// Encrypts and authenticates `plaintext` with AES-256-GCM under a 32-byte `key`.
    /// Returns nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes); a fresh random nonce each call.
    /// `associatedData` is authenticated but not stored: pass the same bytes to ``open``
    /// (e.g. the row id, so a sealed value cannot be moved to another row).
    public static func seal(_ plaintext: [UInt8], key: [UInt8], associatedData: [UInt8] = []) -> [UInt8] {
        precondition(key.count == 32, "AES-256-GCM needs a 32-byte key")
        let nonce = randomBytes(12)
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: 16)
        var length: Int32 = 0
        var final: Int32 = 0
        let ctx = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(ctx) }
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil)
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nil)
        EVP_EncryptInit_ex(ctx, nil, nil, key, nonce)
        if !associatedData.isEmpty { EVP_EncryptUpdate(ctx, nil, &length, associatedData, Int32(associatedData.count)) }
        EVP_EncryptUpdate(ctx, &out, &length, plaintext, Int32(plaintext.count))
        out.withUnsafeMutableBufferPointer { buf in _ = EVP_EncryptFinal_ex(ctx, buf.baseAddress! + Int(length), &final) }
        tag.withUnsafeMutableBytes { _ = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, $0.baseAddress) }
        return nonce + out.prefix(Int(length + final)) + tag
    }

    /// Decrypts what ``seal`` produced; throws ``OpenError`` unless key, bytes and
    /// `associatedData` are exactly those it was sealed with.
    public static func open(_ sealed: [UInt8], key: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        guard key.count == 32, sealed.count >= 28 else { throw OpenError() }
        let nonce = Array(sealed.prefix(12))
        let body = Array(sealed.dropFirst(12).dropLast(16))
        var tag = Array(sealed.suffix(16))
        var out = [UInt8](repeating: 0, count: body.count + 16)
        var length: Int32 = 0
        var final: Int32 = 0
        let ctx = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(ctx) }
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil)
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nil)
        EVP_DecryptInit_ex(ctx, nil, nil, key, nonce)
        if !associatedData.isEmpty { EVP_DecryptUpdate(ctx, nil, &length, associatedData, Int32(associatedData.count)) }
        EVP_DecryptUpdate(ctx, &out, &length, body, Int32(body.count))
        tag.withUnsafeMutableBytes { _ = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, $0.baseAddress) }
        let verified = out.withUnsafeMutableBufferPointer { buf in EVP_DecryptFinal_ex(ctx, buf.baseAddress! + Int(length), &final) }
        guard verified == 1 else { throw OpenError() }
        return Array(out.prefix(Int(length + final)))
    }
}
