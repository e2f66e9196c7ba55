import Foundation
import Son1kPluginKit

/// A subscription tier: what it costs and what it allows.
struct Tier: Sendable, Equatable {
    enum Period: String, Codable, CaseIterable, Sendable { case day, month }

    var id: String
    var name: String
    var priceUsd: Double
    var period: Period
    /// Generations per period.
    var limit: Int
    var qualities: [String]
    /// Bytes of stored audio; nil = unlimited.
    var storageBytes: Int64?
    var features: [String]
    /// Generations per hour, on top of the period limit; nil = no hourly limit.
    var perHour: Int?
    /// Queue priority the tier's generations get (higher goes first).
    var priority: Int
}

/// An operator's change to a tier in plugins.json; fields left out keep the default.
struct TierOverride: Codable, Sendable {
    var name: String?
    var priceUsd: Double?
    var period: String?
    var limit: Int?
    var qualities: [String]?
    /// -1 = unlimited.
    var storageBytes: Int64?
    var features: [String]?
    /// 0 = no hourly limit.
    var perHour: Int?
    var priority: Int?
}

/// The tiers in force: DESIGN §4's four, overlaid with the operator's overrides.
struct TierCatalog: Sendable {
    static let qualities = ["standard", "high", "ultra"]
    static let gb: Int64 = 1_000_000_000

    static let defaults: [Tier] = [
        Tier(id: "FREE", name: "Free", priceUsd: 0, period: .day, limit: 3, qualities: ["standard"], storageBytes: 1 * gb,
             features: ["3 songs a day", "standard quality", "claim songs from the community pool"], perHour: nil, priority: 0),
        Tier(id: "CREATOR", name: "Creator", priceUsd: 9.99, period: .month, limit: 50, qualities: ["standard", "high"], storageBytes: 10 * gb,
             features: ["50 songs a month", "high quality", "share to the community pool"], perHour: nil, priority: 10),
        Tier(id: "PRO", name: "Pro", priceUsd: 29.99, period: .month, limit: 200, qualities: ["standard", "high", "ultra"], storageBytes: 100 * gb,
             features: ["200 songs a month", "ultra quality", "voice cloning", "priority queue"], perHour: nil, priority: 20),
        Tier(id: "STUDIO", name: "Studio", priceUsd: 99.99, period: .month, limit: 1000, qualities: ["standard", "high", "ultra"], storageBytes: nil,
             features: ["1000 songs a month", "every quality", "unlimited storage", "first in the queue"], perHour: nil, priority: 30),
    ]

    /// Cheapest first.
    let tiers: [Tier]
    let defaultTier: String
    /// What `GET /api/tiers` answers, and each tier's view by id (built once: every limits
    /// request includes one).
    let catalog: CatalogView
    let views: [String: TierView]

    /// Applies the overrides; a bad value throws naming the field (`tiers.FREE.limit: …`).
    init(overrides: [String: TierOverride], defaultTier: String) throws {
        var byID = Dictionary(uniqueKeysWithValues: Self.defaults.map { ($0.id, $0) })
        for (id, o) in overrides.sorted(by: { $0.key < $1.key }) {
            let field = { (name: String) in "tiers.\(id).\(name)" }
            guard id.range(of: "^[A-Z][A-Z0-9_]{0,31}$", options: .regularExpression) != nil else {
                throw PluginError.invalid("tiers.\(id)", "tier ids are 1 to 32 capital letters, digits or '_', starting with a letter.")
            }
            var tier = byID[id] ?? Tier(id: id, name: id.capitalized, priceUsd: -1, period: .month, limit: -1, qualities: [],
                                        storageBytes: nil, features: [], perHour: nil, priority: 0)
            if let v = o.name { tier.name = v }
            if let v = o.priceUsd { tier.priceUsd = v }
            if let v = o.period {
                guard let p = Tier.Period(rawValue: v) else { throw PluginError.invalid(field("period"), "must be day or month.") }
                tier.period = p
            }
            if let v = o.limit { tier.limit = v }
            if let v = o.qualities { tier.qualities = v }
            if let v = o.storageBytes { tier.storageBytes = v < 0 ? nil : v }
            if let v = o.features { tier.features = v }
            if let v = o.perHour { tier.perHour = v == 0 ? nil : v }
            if let v = o.priority { tier.priority = v }
            guard tier.priceUsd >= 0 else { throw PluginError.invalid(field("price_usd"), "must be 0 or more (a new tier must set it).") }
            guard (0...1_000_000).contains(tier.limit) else { throw PluginError.invalid(field("limit"), "must be between 0 and 1000000 (a new tier must set it).") }
            guard !tier.qualities.isEmpty, tier.qualities.allSatisfy(Self.qualities.contains) else {
                throw PluginError.invalid(field("qualities"), "must list one or more of standard, high, ultra.")
            }
            if let s = tier.storageBytes, s < 0 { throw PluginError.invalid(field("storage_bytes"), "must be -1 (unlimited) or more.") }
            if let h = tier.perHour, h < 0 { throw PluginError.invalid(field("per_hour"), "must be 0 (off) or more.") }
            guard (-100...100).contains(tier.priority) else { throw PluginError.invalid(field("priority"), "must be between -100 and 100.") }
            byID[id] = tier
        }
        guard byID[defaultTier] != nil else {
            throw PluginError.invalid("default_tier", "'\(defaultTier)' is not a tier (\(byID.keys.sorted().joined(separator: ", "))).")
        }
        tiers = byID.values.sorted { ($0.priceUsd, $0.id) < ($1.priceUsd, $1.id) }
        self.defaultTier = defaultTier
        views = Dictionary(uniqueKeysWithValues: tiers.map { ($0.id, TierView($0)) })
        catalog = CatalogView(tiers: tiers.map(TierView.init), defaultTier: defaultTier)
    }

    func tier(_ id: String) -> Tier? { tiers.first { $0.id == id } }

    var ids: [String] { tiers.map(\.id) }
}
