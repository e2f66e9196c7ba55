import Foundation

/// What plugins add to a user's public profile (`GET /api/users/{id}/profile`): the kernel
/// publishes the hook `kernel.profile` with the user's id, each subscriber adds its counters
/// and badges, and the kernel serves the result beside the user's name and picture. A plugin
/// contributes without any change to the kernel or to other plugins:
///
/// ```swift
/// r.onHook(.profileAssemble) { event, ctx in
///     var profile = event.payload
///     profile.badges.append(ProfileBadge(id: "early_adopter", name: "Early Adopter", icon: "🚀"))
///     return .replace(profile)
/// }
/// ```
///
/// Everything here is shown to every signed-in user: contribute only what the user would
/// show anyone. The hook runs inside one transaction, so the counters read together.
public struct ProfileContributions: Codable, Sendable, Equatable {
    /// Whose profile.
    public var userId: String
    /// The user's tier, for the profile's tier badge (the tiers plugin sets it).
    public var tier: String?
    /// Counters by name, snake_case (`songs_generated`); a plugin adds its own names.
    public var stats: [String: Int]
    /// Badges in the order they were added.
    public var badges: [ProfileBadge]

    /// An empty profile of `userId`, as the kernel publishes it.
    public init(userId: String, tier: String? = nil, stats: [String: Int] = [:], badges: [ProfileBadge] = []) {
        self.userId = userId
        self.tier = tier
        self.stats = stats
        self.badges = badges
    }
}

/// A badge on a profile.
public struct ProfileBadge: Codable, Sendable, Equatable {
    /// Stable, snake_case: `early_adopter`.
    public var id: String
    /// What the profile shows: `Early Adopter`.
    public var name: String
    /// An emoji or an image URL.
    public var icon: String?
    /// When the user earned it, when the plugin knows.
    public var earnedAt: Date?
    /// The plugin that awarded it, when it says so.
    public var plugin: String?

    /// A badge; `earnedAt` when the plugin knows it.
    public init(id: String, name: String, icon: String? = nil, earnedAt: Date? = nil, plugin: String? = nil) {
        self.id = id
        self.name = name
        self.icon = icon
        self.earnedAt = earnedAt
        self.plugin = plugin
    }
}

extension Topic where Payload == ProfileContributions {
    /// Published by the kernel for each profile it serves; subscribers add to it.
    public static let profileAssemble = Topic("kernel.profile")
}
