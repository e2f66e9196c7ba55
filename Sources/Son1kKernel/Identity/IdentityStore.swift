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

    enum CodingKeys: String, CodingKey { case id, email, username, role, createdAt = "created_at" }

    init?(row: StorageRow) {
        guard let id = row["id"]?.string, let email = row["email"]?.string, let username = row["username"]?.string,
              let role = row["role"]?.string else { return nil }
        self.init(id: id, email: email, username: username, role: role, createdAt: row["created_at"]?.string ?? "")
    }

    public init(id: String, email: String, username: String, role: String, createdAt: String) {
        self.id = id
        self.email = email
        self.username = username
        self.role = role
        self.createdAt = createdAt
    }
}

/// Users, passwords, JWTs and API tokens: everything that turns credentials into a
/// ``Principal``.
public final class IdentityStore: Sendable {
    let storage: any Storage
    public let jwt: JWTSigner
    let bcryptCost: Int

    public init(storage: any Storage, jwt: JWTSigner, bcryptCost: Int) {
        self.storage = storage
        self.jwt = jwt
        self.bcryptCost = bcryptCost
    }

    static let userColumns = "id, email, username, role, created_at"

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
        guard password.count >= 8 else { throw PluginError.invalid("password", "must be at least 8 characters.") }
        guard password.utf8.count <= PasswordHasher.maxBytes else {
            throw PluginError.invalid("password", "must be at most \(PasswordHasher.maxBytes) bytes.")
        }
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

    public func issueJWT(for user: User) -> String { jwt.sign(subject: user.id, role: user.role) }

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
        // and expiry are checked, and the role read from the database, at most a second ago:
        // a demotion or a deletion takes effect whatever the token says.
        return try principals.principal("j:" + bearer) {
            guard let claims = jwt.verify(bearer), let row = try storage.query("SELECT role FROM kernel_users WHERE id = ?", [.text(claims.subject)]).first,
                  let role = row["role"]?.string else { return nil }
            return Principal(id: claims.subject, role: role, kind: .user)
        }
    }

    func tokenPrincipal(_ token: String) throws -> Principal? {
        let parts = token.split(separator: ".", maxSplits: 2)
        guard parts.count == 3 else { return nil }
        let id = String(parts[1])
        guard let row = try storage.query("SELECT role, user_id, secret_hash FROM kernel_tokens WHERE id = ? AND revoked_at IS NULL", [.text(id)]).first,
              let role = row["role"]?.string, let hash = row["secret_hash"]?.string,
              Crypto.constantTimeEquals(Array(Crypto.sha256Hex(Array(parts[2].utf8)).utf8), Array(hash.utf8))
        else { return nil }
        let principalID = row["user_id"]?.string ?? "\(role == "worker" ? "worker" : "token"):\(id)"
        return Principal(id: principalID, role: role, kind: .token)
    }
}
