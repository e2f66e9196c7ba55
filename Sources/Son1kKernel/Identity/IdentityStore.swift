import Foundation
import Son1kPluginKit
import Synchronization

/// A user account as the API shows it (never with its password hash).
public struct User: Sendable, Codable, Equatable {
    public var id: String
    public var email: String
    public var username: String
    public var role: String
    public var createdAt: String
    /// When the user proved the address theirs (`POST /api/auth/verify/confirm`); nil until then.
    public var emailVerifiedAt: String?
    public var emailVerified: Bool { emailVerifiedAt != nil }

    enum CodingKeys: String, CodingKey {
        case id, email, username, role, createdAt = "created_at", emailVerified = "email_verified", emailVerifiedAt = "email_verified_at"
    }

    init?(row: StorageRow) {
        guard let id = row["id"]?.string, let email = row["email"]?.string, let username = row["username"]?.string,
              let role = row["role"]?.string else { return nil }
        self.init(id: id, email: email, username: username, role: role, createdAt: row["created_at"]?.string ?? "",
                  emailVerifiedAt: row["email_verified_at"]?.string)
    }

    public init(id: String, email: String, username: String, role: String, createdAt: String, emailVerifiedAt: String? = nil) {
        self.id = id
        self.email = email
        self.username = username
        self.role = role
        self.createdAt = createdAt
        self.emailVerifiedAt = emailVerifiedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try c.decode(String.self, forKey: .id), email: try c.decode(String.self, forKey: .email),
                  username: try c.decode(String.self, forKey: .username), role: try c.decode(String.self, forKey: .role),
                  createdAt: try c.decode(String.self, forKey: .createdAt), emailVerifiedAt: try c.decodeIfPresent(String.self, forKey: .emailVerifiedAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(email, forKey: .email)
        try c.encode(username, forKey: .username)
        try c.encode(role, forKey: .role)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(emailVerified, forKey: .emailVerified)
        try c.encode(emailVerifiedAt, forKey: .emailVerifiedAt)
    }
}

/// Users, passwords, sessions, JWTs and API tokens: everything that turns credentials into a
/// ``Principal``.
public final class IdentityStore: Sendable {
    let storage: any Storage
    public let jwt: JWTSigner
    let bcryptCost: Int
    /// The sessions user JWTs belong to; they last as long as a JWT.
    let sessions: SessionStore

    public init(storage: any Storage, jwt: JWTSigner, bcryptCost: Int) {
        self.storage = storage
        self.jwt = jwt
        self.bcryptCost = bcryptCost
        sessions = SessionStore(storage: storage, ttlSeconds: jwt.ttlSeconds)
    }

    static let userColumns = "id, email, username, role, created_at, email_verified_at"

    // MARK: Users

    /// Create a user. Throws 422 naming the field for invalid input and 409 when the
    /// e-mail or username is taken.
    public func createUser(email rawEmail: String, username rawUsername: String, password: String, role: String = "user") throws -> User {
        let email = rawEmail.trimmingCharacters(in: .whitespaces).lowercased()
        let username = rawUsername.trimmingCharacters(in: .whitespaces)
        guard email.range(of: #"^[^@\s]+@[^@\s]+\.[^@\s]+$"#, options: .regularExpression) != nil, email.count <= 254 else {
            throw PluginError.invalid("email", "must be an e-mail address.")
        }
        guard username.range(of: #"^[A-Za-z0-9_.-]{3,32}$"#, options: .regularExpression) != nil else {
            throw PluginError.invalid("username", "must be 3 to 32 letters, digits, '.', '_' or '-'.")
        }
        try Self.checkPassword(password, field: "password")
        guard ["user", "admin"].contains(role) else { throw PluginError.invalid("role", "must be user or admin.") }
        let existing = try storage.query("SELECT email FROM kernel_users WHERE email = ? OR lower(username) = lower(?)", [.text(email), .text(username)])
        if let row = existing.first {
            throw row["email"]?.string == email
                ? PluginError.conflict("An account with this e-mail already exists.", code: "email_taken")
                : PluginError.conflict("This username is taken.", code: "username_taken")
        }
        let user = User(id: IDs.make("usr"), email: email, username: username, role: role, createdAt: Timestamp.now())
        let hash = try PasswordHasher.hash(password, cost: bcryptCost)
        do {
            _ = try storage.execute("INSERT INTO kernel_users (id, email, username, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                    [.text(user.id), .text(email), .text(username), .text(hash), .text(role), .text(user.createdAt)])
        } catch let error as StorageError where error.kind == .constraint {
            throw PluginError.conflict("An account with this e-mail or username already exists.", code: "account_exists")
        }
        return user
    }

    public func user(id: String) throws -> User? {
        try storage.query("SELECT \(Self.userColumns) FROM kernel_users WHERE id = ?", [.text(id)]).first.flatMap(User.init(row:))
    }

    public func user(email: String) throws -> User? {
        try storage.query("SELECT \(Self.userColumns) FROM kernel_users WHERE email = ?", [.text(email.lowercased())]).first.flatMap(User.init(row:))
    }

    /// Users by creation order; `after` is the last id of the previous page.
    public func users(limit: Int, after: String?) throws -> [User] {
        try storage.query("SELECT \(Self.userColumns) FROM kernel_users WHERE id > ? ORDER BY id LIMIT ?",
                          [.text(after ?? ""), .int(Int64(limit))]).compactMap(User.init(row:))
    }

    /// The user whose e-mail and password match, or nil (same answer for both mistakes).
    public func authenticate(email: String, password: String) throws -> User? {
        let rows = try storage.query("SELECT \(Self.userColumns), password_hash FROM kernel_users WHERE email = ?",
                                     [.text(email.trimmingCharacters(in: .whitespaces).lowercased())])
        guard let row = rows.first, let hash = row["password_hash"]?.string else {
            // Spend the same time as a real check so timing does not reveal which accounts exist.
            _ = PasswordHasher.verify(password, hash: try decoyHash())
            return nil
        }
        return PasswordHasher.verify(password, hash: hash) ? User(row: row) : nil
    }

    /// A hash at the configured cost, made on the first sign-in for an unknown e-mail (a
    /// fixed cheaper hash would answer faster than a real one and reveal the difference).
    private let decoy = Mutex<String?>(nil)
    /// Principals resolved in the last second (see ``PrincipalCache``).
    let principals = PrincipalCache()

    func decoyHash() throws -> String {
        if let hash = decoy.withLock({ $0 }) { return hash }
        let hash = try PasswordHasher.hash(Crypto.randomToken(12), cost: bcryptCost)
        decoy.withLock { $0 = $0 ?? hash }
        return hash
    }

    public func setRole(userID: String, role: String) throws -> User {
        guard ["user", "admin"].contains(role) else { throw PluginError.invalid("role", "must be user or admin.") }
        let changed = try storage.execute("UPDATE kernel_users SET role = ? WHERE id = ? OR email = ?", [.text(role), .text(userID), .text(userID.lowercased())])
        principals.removeAll()
        guard changed.changes > 0, let user = try user(id: userID) ?? user(email: userID) else {
            throw PluginError.notFound("No user with id or e-mail \(userID).", code: "user_not_found")
        }
        return user
    }

    public func adminExists() throws -> Bool {
        try !storage.query("SELECT id FROM kernel_users WHERE role = 'admin' LIMIT 1", []).isEmpty
    }

    /// Open a session for `user` and sign its first token.
    public func signIn(_ user: User, userAgent: String? = nil, ip: String? = nil) throws -> String {
        jwt.sign(subject: user.id, role: user.role, session: try sessions.open(userID: user.id, userAgent: userAgent, ip: ip))
    }

    /// A fresh token for the session `claims` belong to, its end pushed a token lifetime
    /// away; nil when that session is no longer live.
    public func refresh(_ claims: JWTSigner.Claims) throws -> String? {
        guard let sid = claims.sessionID, try sessions.extend(sid, userID: claims.subject), let user = try user(id: claims.subject) else { return nil }
        return jwt.sign(subject: user.id, role: user.role, session: sid)
    }

    /// Revoke one of `userID`'s sessions; its tokens are refused from the next request on.
    public func revokeSession(_ id: String, userID: String) throws -> Bool {
        defer { principals.removeAll() }
        return try sessions.revoke(id, userID: userID)
    }

    // MARK: Passwords

    /// Change a password knowing the current one; every other session of the user ends, and
    /// any reset link not yet used stops working. 403 `wrong_password` when `current` is wrong.
    public func changePassword(userID: String, current: String, new: String, keepSession: String?) throws {
        let rows = try storage.query("SELECT password_hash FROM kernel_users WHERE id = ?", [.text(userID)])
        guard let hash = rows.first?["password_hash"]?.string else { throw PluginError.notFound("No user \(userID).", code: "user_not_found") }
        guard PasswordHasher.verify(current, hash: hash) else {
            throw PluginError(status: 403, code: "wrong_password", detail: "The current password is wrong.")
        }
        let newHash = try newPasswordHash(new)
        try storage.transaction(.readCommitted) { tx in try storePassword(userID: userID, hash: newHash, keepSession: keepSession, in: tx) }
        principals.removeAll()
    }

    /// A new password checked (422 naming `new_password`) and hashed — before any
    /// transaction opens: at the default cost bcrypt takes a quarter of a second, which a
    /// held write lock would make every other writer wait for.
    func newPasswordHash(_ password: String) throws -> String {
        try Self.checkPassword(password, field: "new_password")
        return try PasswordHasher.hash(password, cost: bcryptCost)
    }

    /// Store `hash` as the user's password inside `tx`, ending every session but
    /// `keepSession` (none after a reset) and retiring unused reset links. The caller empties
    /// ``principals`` once `tx` commits: emptied before, a request in between could cache a
    /// session that is about to end.
    func storePassword(userID: String, hash: String, keepSession: String?, in tx: any StorageTransaction) throws {
        _ = try tx.execute("UPDATE kernel_users SET password_hash = ? WHERE id = ?", [.text(hash), .text(userID)])
        try sessions.revokeAll(userID: userID, except: keepSession, in: tx)
        _ = try tx.execute("UPDATE kernel_account_links SET used_at = ? WHERE user_id = ? AND purpose = 'password_reset' AND used_at IS NULL",
                           [.text(Timestamp.now()), .text(userID)])
    }

    static func checkPassword(_ password: String, field: String) throws {
        guard password.count >= 8 else { throw PluginError.invalid(field, "must be at least 8 characters.") }
        guard password.utf8.count <= PasswordHasher.maxBytes else {
            throw PluginError.invalid(field, "must be at most \(PasswordHasher.maxBytes) bytes.")
        }
    }

    // MARK: API tokens

    public struct IssuedToken: Sendable, Codable {
        public var id: String
        public var name: String
        public var role: String
        public var userID: String?
        /// Shown once; only its hash is stored.
        public var token: String

        enum CodingKeys: String, CodingKey { case id, name, role, token, userID = "user_id" }
    }

    /// Create a long-lived API token. `user` tokens must belong to a user; `worker` and
    /// `admin` tokens may stand alone (services, external workers).
    public func createToken(name: String, role: String, userID: String?) throws -> IssuedToken {
        guard ["user", "admin", "worker"].contains(role) else { throw PluginError.invalid("role", "must be user, admin or worker.") }
        if role == "user", userID == nil { throw PluginError.invalid("user_id", "a user token needs the user it acts for.") }
        if let userID, try user(id: userID) == nil { throw PluginError.notFound("No user with id \(userID).", code: "user_not_found") }
        let id = IDs.make("tok")
        let secret = Crypto.randomToken(32)
        _ = try storage.execute("INSERT INTO kernel_tokens (id, name, role, user_id, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                [.text(id), .text(name), .text(role), SQLValue(userID), .text(Crypto.sha256Hex(Array(secret.utf8))), .text(Timestamp.now())])
        return IssuedToken(id: id, name: name, role: role, userID: userID, token: "s1k.\(id).\(secret)")
    }

    // MARK: Credentials → principal

    /// The principal behind an `Authorization` header value, or nil when it proves nothing.
    public func principal(bearer: String) throws -> Principal? {
        if bearer.hasPrefix("s1k.") { return try principals.principal("t:" + bearer) { try tokenPrincipal(bearer) } }
        // Keyed by the whole token, so only that exact (verified) token hits. The signature
        // and expiry are checked, and the session and role read from the database, at most a
        // second ago: a revocation, a demotion or a deletion takes effect whatever the token
        // says. A token without a session (signed before sessions existed) cannot be revoked,
        // so it is refused: its user signs in again.
        return try principals.principal("j:" + bearer) {
            guard let claims = jwt.verify(bearer), let sid = claims.sessionID,
                  let role = try sessions.resolve(sid, userID: claims.subject) else { return nil }
            return Principal(id: claims.subject, role: role, kind: .user)
        }
    }

    func tokenPrincipal(_ token: String) throws -> Principal? {
        let parts = token.split(separator: ".", maxSplits: 2)
        guard parts.count == 3 else { return nil }
        let id = String(parts[1])
        guard let row = try storage.query("""
            SELECT t.role, t.user_id, t.secret_hash, t.personal, t.last_used_at, u.role AS user_role
            FROM kernel_tokens t LEFT JOIN kernel_users u ON u.id = t.user_id WHERE t.id = ? AND t.revoked_at IS NULL
            """, [.text(id)]).first,
              let tokenRole = row["role"]?.string, let hash = row["secret_hash"]?.string,
              Crypto.constantTimeEquals(Array(Crypto.sha256Hex(Array(parts[2].utf8)).utf8), Array(hash.utf8))
        else { return nil }
        // A personal key has its user's rights as they are now (a demoted admin's keys are
        // demoted too); a token an admin made keeps the role it was made with.
        let role: String
        if row["personal"]?.int == 1 {
            guard let current = row["user_role"]?.string else { return nil }
            role = current
        } else {
            role = tokenRole
        }
        if SessionStore.isStale(row["last_used_at"]?.string) {
            _ = try storage.execute("UPDATE kernel_tokens SET last_used_at = ? WHERE id = ?", [.text(Timestamp.now()), .text(id)])
        }
        let principalID = row["user_id"]?.string ?? "\(role == "worker" ? "worker" : "token"):\(id)"
        return Principal(id: principalID, role: role, kind: .token)
    }

    // MARK: Personal API keys

    /// A personal API key as its owner sees it after creation: never the secret.
    public struct PersonalKey: Sendable, Codable, Equatable {
        public var id: String
        public var name: String
        /// The key's first characters (`s1k.tok_…`), to tell keys apart.
        public var prefix: String
        public var createdAt: String
        public var lastUsedAt: String?

        enum CodingKeys: String, CodingKey { case id, name, prefix, createdAt = "created_at", lastUsedAt = "last_used_at" }
    }

    /// How many live personal keys one user may hold.
    public static let maxPersonalKeys = 25

    /// Create a personal API key for `userID`; the secret is in the answer only. It acts as
    /// the user, with the user's rights at each use.
    public func createPersonalKey(userID: String, name rawName: String) throws -> IssuedToken {
        let name = rawName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else { throw PluginError.invalid("name", "must be 1 to 100 characters.") }
        let count = try storage.query("SELECT COUNT(*) AS n FROM kernel_tokens WHERE user_id = ? AND personal = 1 AND revoked_at IS NULL", [.text(userID)])
        guard (count.first?["n"]?.int ?? 0) < Self.maxPersonalKeys else {
            throw PluginError.conflict("You already have \(Self.maxPersonalKeys) API keys; revoke one first.", code: "too_many_api_keys")
        }
        let id = IDs.make("tok")
        let secret = Crypto.randomToken(32)
        _ = try storage.execute("INSERT INTO kernel_tokens (id, name, role, user_id, secret_hash, created_at, personal) VALUES (?, ?, 'user', ?, ?, ?, 1)",
                                [.text(id), .text(name), .text(userID), .text(Crypto.sha256Hex(Array(secret.utf8))), .text(Timestamp.now())])
        return IssuedToken(id: id, name: name, role: "user", userID: userID, token: "s1k.\(id).\(secret)")
    }

    /// A user's live personal keys, newest first; `after` is the last id of the previous page.
    public func personalKeys(userID: String, limit: Int, after: String?) throws -> [PersonalKey] {
        try storage.query("""
            SELECT id, name, created_at, last_used_at FROM kernel_tokens
            WHERE user_id = ? AND personal = 1 AND revoked_at IS NULL AND id < ? ORDER BY id DESC LIMIT ?
            """, [.text(userID), .text(after ?? "~"), .int(Int64(limit))]).compactMap { row in
            guard let id = row["id"]?.string else { return nil }
            return PersonalKey(id: id, name: row["name"]?.string ?? "", prefix: "s1k.\(id)", createdAt: row["created_at"]?.string ?? "",
                               lastUsedAt: row["last_used_at"]?.string)
        }
    }

    /// Revoke one of `userID`'s personal keys; it is refused from the next request on.
    public func revokePersonalKey(_ id: String, userID: String) throws -> Bool {
        defer { principals.removeAll() }
        return try storage.execute("UPDATE kernel_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND personal = 1 AND revoked_at IS NULL",
                                   [.text(Timestamp.now()), .text(id), .text(userID)]).changes > 0
    }
}

extension IdentityStore {
    /// Record that `userID` proved their address theirs.
    func markVerified(_ userID: String, in tx: any StorageTransaction) throws {
        _ = try tx.execute("UPDATE kernel_users SET email_verified_at = ? WHERE id = ? AND email_verified_at IS NULL", [.text(Timestamp.now()), .text(userID)])
    }
}
