import Foundation
import Son1kPluginKit

/// One-time tokens mailed in links: a password reset, an e-mail verification
/// (`kernel_account_links`).
///
/// A token is 32 random bytes; only its SHA-256 is stored, so a copy of the database opens no
/// account. A token works once, until it expires, and only for the address it was sent to
/// (a verification link for an address the user has since changed proves nothing). Asking
/// for a new link of one purpose retires the earlier ones. Expiry follows ``PluginClock``, so
/// a test steps past it instead of waiting.
final class AccountLinks: Sendable {
    let storage: any Storage
    let clock: PluginClock

    init(storage: any Storage, clock: PluginClock) {
        self.storage = storage
        self.clock = clock
    }

    /// A new token for `purpose`, working `ttlSeconds` from now; earlier unused ones retire.
    func issue(_ purpose: MailPurpose, userID: String, email: String, ttlSeconds: Int) throws -> String {
        let token = Crypto.randomToken(32)
        let now = clock.now
        try storage.transaction(.readCommitted) { tx in
            _ = try tx.execute("UPDATE kernel_account_links SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
                               [.text(Timestamp.string(now)), .text(userID), .text(purpose.rawValue)])
            _ = try tx.execute("""
                INSERT INTO kernel_account_links (token_hash, user_id, purpose, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(Self.hash(token)), .text(userID), .text(purpose.rawValue), .text(email), .text(Timestamp.string(now)),
                      .text(Timestamp.string(now.addingTimeInterval(Double(ttlSeconds))))])
        }
        return token
    }

    /// Use `token` up, inside `tx`: the user it was issued to, or nil when it is unknown,
    /// used, expired, for another purpose, or its address is no longer the user's.
    func consume(_ purpose: MailPurpose, token: String, in tx: any StorageTransaction) throws -> String? {
        let now = Timestamp.string(clock.now)
        let rows = try tx.query("""
            SELECT l.user_id FROM kernel_account_links l JOIN kernel_users u ON u.id = l.user_id AND u.email = l.email
            WHERE l.token_hash = ? AND l.purpose = ? AND l.used_at IS NULL AND l.expires_at > ?
            """, [.text(Self.hash(token)), .text(purpose.rawValue), .text(now)])
        guard let userID = rows.first?["user_id"]?.string else { return nil }
        // Guarded by `used_at IS NULL`: of two requests racing with one token, one wins.
        let used = try tx.execute("UPDATE kernel_account_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL", [.text(now), .text(Self.hash(token))])
        return used.changes == 1 ? userID : nil
    }

    static func hash(_ token: String) -> String { Crypto.sha256Hex(Array(token.utf8)) }
}
