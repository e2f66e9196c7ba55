/// Who is calling: resolved by the kernel from a JWT or an API token before the plugin runs.
public struct Principal: Sendable, Hashable {
    /// How the caller signed in: a user's JWT or an API token.
    public enum Kind: String, Sendable { case user, token }

    /// The user's id, or `worker:<token id>` for a worker token without a user.
    public var id: String
    /// `user`, `admin` or `worker`.
    public var role: String
    /// A user's JWT or an API token.
    public var kind: Kind

    /// A principal as the kernel resolved it (tests build their own).
    public init(id: String, role: String, kind: Kind) {
        self.id = id
        self.role = role
        self.kind = kind
    }

    /// True for administrators.
    public var isAdmin: Bool { role == "admin" }

    /// True when this principal may act on `userID`'s data: it is that user, or an admin.
    public func mayActFor(_ userID: String) -> Bool { isAdmin || id == userID }

    /// The user a request acts for when its body may name one (`user_id`, as older front ends
    /// send): this principal when none is named or it names itself, the named user for an
    /// admin, and otherwise 403 `not_owner`: a user acts only as themself.
    ///
    /// ```swift
    /// let owner = try principal.acting(as: req.json["user_id"].string)
    /// ```
    public func acting(as named: String?) throws -> String {
        guard let named, named != id else { return id }
        guard isAdmin else { throw PluginError.forbidden("user_id names another user; you can only act as yourself.", code: "not_owner") }
        return named
    }
}
