import Son1kPluginKit

/// The stealth plugin's services for plugins that call external providers with its
/// accounts: lease the next account of a provider, then report how the call went.
extension Service where Input == LeaseRequest, Output == Lease {
    public static let stealthAcquire = Service("stealth.acquire")
}

extension Service where Input == LeaseReport, Output == LeaseVerdict {
    public static let stealthReport = Service("stealth.report")
}

/// `stealth.acquire`'s input.
public struct LeaseRequest: Codable, Sendable, Equatable {
    /// The provider whose account to lease; the plugin's `default_provider` when absent.
    public var provider: String?
    public init(provider: String? = nil) { self.provider = provider }
}

/// `stealth.acquire`'s answer: a lease on an account, or why none is free.
public struct Lease: Codable, Sendable, Equatable {
    /// Why no account was leased.
    public enum Unavailable: String, Codable, Sendable, CaseIterable {
        /// The provider has no accounts.
        case noAccounts = "no_accounts"
        /// Every account rests (budget used, rate limited) until `next_available_at`.
        case allResting = "all_resting"
        /// Every account is banned or inactive.
        case noneUsable = "none_usable"
    }

    public var available: Bool
    public var provider: String
    /// Set when `available`: report the call's outcome under it.
    public var leaseId: String?
    public var accountId: String?
    public var label: String?
    /// The account's base URL, else the provider's.
    public var baseUrl: String?
    /// Headers that authenticate the call (the credential, never logged).
    public var headers: [String: String]?
    /// The account's proxy URL, with its password.
    public var proxy: String?
    /// Set when not `available`.
    public var reason: Unavailable?
    /// ISO 8601: when the first resting account returns (absent when none will).
    public var nextAvailableAt: String?
    public var retryAfterS: Double?

    public init(available: Bool, provider: String, leaseId: String? = nil, accountId: String? = nil, label: String? = nil,
                baseUrl: String? = nil, headers: [String: String]? = nil, proxy: String? = nil, reason: Unavailable? = nil,
                nextAvailableAt: String? = nil, retryAfterS: Double? = nil) {
        self.available = available
        self.provider = provider
        self.leaseId = leaseId
        self.accountId = accountId
        self.label = label
        self.baseUrl = baseUrl
        self.headers = headers
        self.proxy = proxy
        self.reason = reason
        self.nextAvailableAt = nextAvailableAt
        self.retryAfterS = retryAfterS
    }
}

/// `stealth.report`'s input: what came of a call made under a lease (one report per lease).
public struct LeaseReport: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable, CaseIterable {
        case ok
        /// Rest the account (for `retry_after_s`, else a minute).
        case rateLimited = "rate_limited"
        /// Counts towards degrading the account (three in a row).
        case error
        /// The credential was refused: the account is banned until an admin restores it.
        case authFailed = "auth_failed"
    }

    public var leaseId: String
    public var outcome: Outcome
    public var statusCode: Int?
    public var retryAfterS: Double?
    /// The start of the provider's answer, to recognise rate limits it words as errors.
    public var bodyExcerpt: String?

    public init(leaseId: String, outcome: Outcome, statusCode: Int? = nil, retryAfterS: Double? = nil, bodyExcerpt: String? = nil) {
        self.leaseId = leaseId
        self.outcome = outcome
        self.statusCode = statusCode
        self.retryAfterS = retryAfterS
        self.bodyExcerpt = bodyExcerpt
    }
}

/// `stealth.report`'s answer: the outcome as classified and the account's health after it.
public struct LeaseVerdict: Codable, Sendable, Equatable {
    public enum Health: String, Codable, Sendable, CaseIterable { case healthy, degraded, banned }

    public var leaseId: String
    public var accountId: String
    /// May differ from the reported one: a 429 reported as an error is a rate limit.
    public var outcome: LeaseReport.Outcome
    public var health: Health

    public init(leaseId: String, accountId: String, outcome: LeaseReport.Outcome, health: Health) {
        self.leaseId = leaseId
        self.accountId = accountId
        self.outcome = outcome
        self.health = health
    }
}
