import Foundation
import Son1kContracts
import Son1kPluginKit

/// An account's standing, as `stealth.report` answers it.
typealias Health = LeaseVerdict.Health

/// One provider account as stored. Its credential and proxy stay sealed here; ``view``
/// is the only shape that leaves the plugin through the API.
struct Account: Decodable, Sendable {
    static let columns = """
        id, seq, provider, label, credential_sealed, credential_hint, base_url, proxy_sealed, proxy_display, active, health, \
        request_count, cooldown_until, cooldown_reason, consecutive_errors, last_error, last_used_ms, total_requests, total_ok, \
        total_rate_limited, total_errors, total_auth_failed, created_at, updated_at
        """

    var id: String
    var seq: Int64
    var provider: String
    var label: String
    var credentialSealed: String
    var credentialHint: String
    var baseUrl: String?
    var proxySealed: String?
    var proxyDisplay: String?
    var active: Int
    var health: String
    var requestCount: Int
    var cooldownUntil: Int64?
    var cooldownReason: String?
    var consecutiveErrors: Int
    var lastError: String?
    var lastUsedMs: Int64?
    var totalRequests: Int
    var totalOk: Int
    var totalRateLimited: Int
    var totalErrors: Int
    var totalAuthFailed: Int
    var createdAt: String
    var updatedAt: String

    var isActive: Bool { active != 0 }
    var healthState: Health { Health(rawValue: health) ?? .healthy }
    var isBanned: Bool { healthState == .banned }
    func isResting(at now: Int64) -> Bool { (cooldownUntil ?? 0) > now }
    /// In rotation and free to take a lease now.
    func isAvailable(at now: Int64, budget: Int) -> Bool {
        isActive && !isBanned && !isResting(at: now) && (cooldownUntil != nil || requestCount < budget)
    }

    /// What the API shows: the credential masked, the proxy without its password.
    func view(now: Int64, budget: Int) -> JSONValue {
        let resting = isResting(at: now)
        return [
            "id": .string(id), "provider": .string(provider), "label": .string(label),
            "credential": .string(credentialHint), "base_url": baseUrl.map { .string($0) } ?? .null,
            "proxy": proxyDisplay.map { .string($0) } ?? .null, "active": .bool(isActive), "health": .string(health),
            "available": .bool(isAvailable(at: now, budget: budget)),
            "request_count": .number(Double(resting || cooldownUntil == nil ? requestCount : 0)), "budget": .number(Double(budget)),
            "cooldown_until": resting ? .string(Date(epochMs: cooldownUntil!).iso8601) : .null,
            "cooldown_reason": resting ? cooldownReason.map { .string($0) } ?? .null : .null,
            "consecutive_errors": .number(Double(consecutiveErrors)), "last_error": lastError.map { .string($0) } ?? .null,
            "last_used_at": lastUsedMs.map { .string(Date(epochMs: $0).iso8601) } ?? .null,
            "stats": [
                "requests": .number(Double(totalRequests)), "ok": .number(Double(totalOk)),
                "rate_limited": .number(Double(totalRateLimited)), "errors": .number(Double(totalErrors)),
                "auth_failed": .number(Double(totalAuthFailed)),
            ],
            "created_at": .string(createdAt), "updated_at": .string(updatedAt),
        ]
    }
}
