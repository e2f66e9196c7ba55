import Foundation
import Son1kPluginKit

/// A signed-in session as its owner sees it (`GET /api/auth/sessions`).
public struct SessionInfo: Sendable, Codable, Equatable {
    public var id: String
    public var createdAt: String
    /// When a request last used it, to the minute (see ``SessionStore/touchInterval``).
    public var lastUsedAt: String
    /// When its newest token stops working, unless refreshed before.
    public var expiresAt: String
    public var userAgent: String?
    public var ip: String?
    /// True for the session the listing request itself used.
    public var current: Bool

    enum CodingKeys: String, CodingKey {
        case id, current, ip
        case createdAt = "created_at", lastUsedAt = "last_used_at", expiresAt = "expires_at", userAgent = "user_agent"
    }
}

/// Revocable sign-in sessions (`kernel_sessions`).
///
/// Every user JWT names its session (`sid`), and resolving the token reads that row beside
/// the user's role (one indexed join instead of one primary-key read, at most once a second
/// per token: ``PrincipalCache``). So signing out, revoking a session from another device, a
/// password change or an account deletion stops the tokens at once — in this process at
/// the next request, in another instance on the same database within the cache's second —
/// while a request still costs no more database work than before sessions existed.
public final class SessionStore: Sendable {
    let storage: any Storage
    /// How long a session lasts after sign-in or its last refresh (the JWT lifetime).
    let ttlSeconds: Int

    /// `last_used_at` is written at most this often per session: a read request must not
    /// turn into a write each time.
    static let touchInterval: TimeInterval = 60

    /// Whether a recorded last use is older than ``touchInterval`` (or missing): time to
    /// write it again. Timestamps share one fixed-width UTC format, so they compare as strings.
    static func isStale(_ lastUsed: String?, now: Date = Date()) -> Bool {
        (lastUsed ?? "") < Timestamp.string(now.addingTimeInterval(-touchInterval))
    }

    init(storage: any Storage, ttlSeconds: Int) {
        self.storage = storage
        self.ttlSeconds = ttlSeconds
    }

    /// Open a session for `userID`; returns its id.
    func open(userID: String, userAgent: String?, ip: String?, now: Date = Date()) throws -> String {
        let id = IDs.make("ses", now: now)
        let at = Timestamp.string(now)
        _ = try storage.execute("""
            INSERT INTO kernel_sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, [.text(id), .text(userID), .text(at), .text(at), .text(Timestamp.string(now.addingTimeInterval(Double(ttlSeconds)))),
                  SQLValue(userAgent.map { String($0.prefix(256)) }), SQLValue(ip)])
        return id
    }

    /// Push a live session's end `ttlSeconds` from now (a token refresh). False when it is
    /// revoked, expired or not `userID`'s.
    func extend(_ id: String, userID: String, now: Date = Date()) throws -> Bool {
        try storage.execute("""
            UPDATE kernel_sessions SET expires_at = ?, last_used_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?
            """, [.text(Timestamp.string(now.addingTimeInterval(Double(ttlSeconds)))), .text(Timestamp.string(now)), .text(id), .text(userID),
                  .text(Timestamp.string(now))]).changes > 0
    }

    /// The role of the user of a live session, or nil when the session is revoked, expired,
    /// another user's, or the user is gone. Records the use when the last one is older than
    /// ``touchInterval``.
    func resolve(_ id: String, userID: String, now: Date = Date()) throws -> String? {
        let at = Timestamp.string(now)
        guard let row = try storage.query("""
            SELECT u.role, s.last_used_at FROM kernel_sessions s JOIN kernel_users u ON u.id = s.user_id
            WHERE s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?
            """, [.text(id), .text(userID), .text(at)]).first, let role = row["role"]?.string else { return nil }
        if Self.isStale(row["last_used_at"]?.string, now: now) {
            _ = try storage.execute("UPDATE kernel_sessions SET last_used_at = ? WHERE id = ?", [.text(at), .text(id)])
        }
        return role
    }

    /// A user's live sessions, newest first; `after` is the last id of the previous page.
    func list(userID: String, current: String?, limit: Int, after: String?, now: Date = Date()) throws -> [SessionInfo] {
        try storage.query("""
            SELECT id, created_at, last_used_at, expires_at, user_agent, ip FROM kernel_sessions
            WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND id < ? ORDER BY id DESC LIMIT ?
            """, [.text(userID), .text(Timestamp.string(now)), .text(after ?? "~"), .int(Int64(limit))]).compactMap { row in
            guard let id = row["id"]?.string else { return nil }
            return SessionInfo(id: id, createdAt: row["created_at"]?.string ?? "", lastUsedAt: row["last_used_at"]?.string ?? "",
                               expiresAt: row["expires_at"]?.string ?? "", userAgent: row["user_agent"]?.string, ip: row["ip"]?.string,
                               current: id == current)
        }
    }

    /// Revoke one of `userID`'s live sessions; false when there is no such session.
    func revoke(_ id: String, userID: String) throws -> Bool {
        try storage.execute("UPDATE kernel_sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                            [.text(Timestamp.now()), .text(id), .text(userID)]).changes > 0
    }

    /// Revoke every live session of `userID` but `except`, inside `tx`.
    func revokeAll(userID: String, except: String?, in tx: any StorageTransaction) throws {
        _ = try tx.execute("UPDATE kernel_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id <> ?",
                           [.text(Timestamp.now()), .text(userID), .text(except ?? "")])
    }
}
