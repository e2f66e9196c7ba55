import Son1kPluginKit

/// What the tiers routes read and answer, as types: `/openapi.json` documents them from here,
/// so the documentation cannot leave out a field the routes send.

/// A tier as clients see it. `daily_limit` or `monthly_limit` repeats `limit` for the
/// original front ends, which read one of them.
struct TierView: Codable, Sendable, Equatable {
    var id: String
    var name: String
    var priceUsd: Double
    var currency: String
    var period: Tier.Period
    var limit: Int
    var dailyLimit: Int?
    var monthlyLimit: Int?
    var qualities: [String]
    /// Absent: unlimited.
    var storageBytes: Int64?
    var storageGb: Double?
    var features: [String]
    /// Absent: no hourly limit.
    var perHour: Int?
    var priority: Int

    init(_ tier: Tier) {
        id = tier.id
        name = tier.name
        priceUsd = tier.priceUsd
        currency = "usd"
        period = tier.period
        limit = tier.limit
        dailyLimit = tier.period == .day ? tier.limit : nil
        monthlyLimit = tier.period == .month ? tier.limit : nil
        qualities = tier.qualities
        storageBytes = tier.storageBytes
        storageGb = tier.storageBytes.map { (Double($0) / 1e9 * 1000).rounded() / 1000 }
        features = tier.features
        perHour = tier.perHour
        priority = tier.priority
    }
}

/// `GET /api/tiers`.
struct CatalogView: Codable, Sendable {
    var tiers: [TierView]
    var defaultTier: String
}

/// `GET /api/tiers/limits/{user_id}`: the original shape `{tier, limits, config}` plus usage
/// and, when there is one, the subscription.
struct LimitsView: Codable, Sendable {
    enum Reason: String, Codable, CaseIterable, Sendable {
        case dailyLimitReached = "daily_limit_reached", monthlyLimitReached = "monthly_limit_reached"
        case hourlyLimitReached = "hourly_limit_reached", storageQuotaExceeded = "storage_quota_exceeded"
    }

    struct Limits: Codable, Sendable {
        var canGenerate: Bool
        var remaining: Int
        var limit: Int
        var period: Tier.Period
        var resetAt: String
        /// Why `can_generate` is false.
        var reason: Reason?
    }

    struct Usage: Codable, Sendable {
        var today: Int
        var thisMonth: Int
        /// Only for tiers with an hourly limit.
        var thisHour: Int?
        var storageBytes: Int64
        /// Absent: unlimited.
        var storageLimitBytes: Int64?
    }

    struct Subscription: Codable, Sendable {
        var status: String?
        var pendingTier: String?
        var pendingAt: String?
    }

    var userId: String
    var tier: String
    var limits: Limits
    var config: TierView
    var usage: Usage
    var subscription: Subscription?
}

/// `POST /api/tiers/record-generation`'s body.
struct RecordRequest: Codable, SchemaRules {
    enum Quality: String, Codable, CaseIterable { case standard, high, ultra }
    var generationId: String
    var quality: Quality?
    /// Admins only: record for another user.
    var userId: String?
    static let schemaRules: [FieldRule] = [.length("generation_id", 1...200)]
}

/// `POST /api/tiers/record-generation`'s answer.
struct RecordedView: Codable, Sendable {
    var status: String
    var generationId: String
    var remaining: Int
}

/// `PUT /api/tiers/users/{user_id}`'s body.
struct TierChange: Codable, Sendable {
    var tier: String
}

/// `GET /api/admin/tiers/stats`.
struct StatsView: Codable, Sendable {
    struct Generations: Codable, Sendable {
        var today: Int
        var thisMonth: Int
    }
    var usersPerTier: [String: Int]
    var generations: Generations
    var rejectionsSinceStart: [String: Int]
}
