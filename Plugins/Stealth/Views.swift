import Foundation
import Son1kPluginKit

/// A provider account as the API shows it: the credential masked, the proxy without its password.
struct AccountView: Codable, Sendable {
    struct Stats: Codable, Sendable {
        var requests: Int
        var ok: Int
        var rateLimited: Int
        var errors: Int
        var authFailed: Int
    }

    var id: String
    var provider: String
    var label: String
    /// Masked: the key's kind prefix and last four characters (`sk-…abcd`).
    var credential: String
    var baseUrl: String?
    /// The proxy URL without its password.
    var proxy: String?
    var active: Bool
    var health: Health
    var available: Bool
    /// Leases in the current budget window.
    var requestCount: Int
    var budget: Int
    var cooldownUntil: Date?
    var cooldownReason: String?
    var consecutiveErrors: Int
    var lastError: String?
    var lastUsedAt: Date?
    var stats: Stats
    var createdAt: Date
    var updatedAt: Date
}

/// A page of accounts in rotation order.
struct AccountPage: Codable, Sendable {
    var data: [AccountView]
    var nextCursor: String?
}

/// The body of `POST /api/stealth/accounts`.
struct NewAccount: Codable, Sendable, SchemaRules {
    /// Default: the plugin's `default_provider`.
    var provider: String?
    var label: String
    /// Stored encrypted, never shown again.
    var credential: String
    var baseUrl: String?
    /// `http://user:password@host:port`, stored encrypted.
    var proxy: String?
    var active: Bool?
    static let schemaRules: [FieldRule] = [.length("label", 1...100), .length("credential", 1...4096)]
}

/// The body of `PATCH /api/stealth/accounts/{id}`, as documented; the handler reads it field
/// by field, since `null` (clear) and absent (keep) differ for `base_url` and `proxy`.
struct AccountChangeBody: Codable, Sendable {
    var label: String?
    var credential: String?
    /// null clears it.
    var baseUrl: String?
    /// null clears it.
    var proxy: String?
    var active: Bool?
}

/// `{provider?}`: the plugin's `default_provider` when absent (the body may be empty).
struct ProviderChoice: Codable, Sendable {
    var provider: String?
}

/// The body of `POST /api/stealth/mark-health`.
struct HealthMark: Codable, Sendable {
    var accountId: String
    var health: Health
    var reason: String?
}

/// What `POST /api/stealth/rotate` did.
struct RotationView: Codable, Sendable {
    var provider: String
    /// The account round robin would have leased, now passed over.
    var skipped: AccountView?
    var next: AccountView?
}

/// What the next lease's headers would look like, credential masked; nothing is leased.
struct HeaderPreview: Codable, Sendable {
    var provider: String
    var accountId: String?
    var headers: [String: String]
    var baseUrl: String?
}

/// `GET /api/stealth/stats`: `available + in_cooldown = active_accounts`.
struct StatsView: Codable, Sendable {
    var totalAccounts: Int
    var activeAccounts: Int
    var inCooldown: Int
    var banned: Int
    var inactive: Int
    var degraded: Int
    var available: Int
    var rotationStrategy: Strategy
    /// The strategy of each provider.
    var strategies: [String: Strategy]
    var provider: String?
}

/// `GET /api/stealth/health`.
struct HealthView: Codable, Sendable {
    enum Status: String, Codable, CaseIterable, Sendable { case ok, degraded, unavailable }

    struct Provider: Codable, Sendable {
        var total: Int
        var available: Int
        var banned: Int
        var degraded: Int
        var nextAvailableAt: Date?
        var strategy: Strategy
    }

    struct Account: Codable, Sendable {
        var id: String
        var provider: String
        var label: String
        var health: Health
        var active: Bool
        var available: Bool
        var cooldownUntil: Date?
        var lastError: String?
    }

    /// `ok` when every provider has an account free, `degraded` when some do, `unavailable` when none does.
    var status: Status
    var providers: [String: Provider]
    var accounts: [Account]
}
