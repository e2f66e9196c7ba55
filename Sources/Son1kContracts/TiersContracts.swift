import Son1kPluginKit

/// The tiers plugin's service for plugins whose rules depend on a user's tier (the community
/// pool): each user's tier at an instant, and whether it is paid.
extension Service where Input == TiersOf, Output == UserTiers {
    public static let tiersOf = Service("tiers.tiers_of")
}

/// `tiers.tiers_of`'s input.
public struct TiersOf: Codable, Sendable, Equatable {
    public var userIds: [String]
    /// ISO 8601; now when absent.
    public var at: String?
    public init(userIds: [String], at: String? = nil) {
        self.userIds = userIds
        self.at = at
    }
}

/// `tiers.tiers_of`'s answer: each asked-for user's tier, by user id.
public struct UserTiers: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var tier: String
        public var paid: Bool
        public init(tier: String, paid: Bool) {
            self.tier = tier
            self.paid = paid
        }
    }
    public var users: [String: Entry]
    public init(users: [String: Entry]) { self.users = users }
}
