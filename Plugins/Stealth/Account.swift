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
    var createdAt: Date
    var updatedAt: Date

    var isActive: Bool { active != 0 }
    var healthState: Health { Health(rawValue: health) ?? .healthy }
    var isBanned: Bool { healthState == .banned }
    func isResting(at now: Int64) -> Bool { (cooldownUntil ?? 0) > now }
    /// In rotation and free to take a lease now.
    func isAvailable(at now: Int64, budget: Int) -> Bool {
        isActive && !isBanned && !isResting(at: now) && (cooldownUntil != nil || requestCount < budget)
    }

    /// What the API shows: the credential masked, the proxy without its password.
    func view(now: Int64, budget: Int) -> AccountView {
        let resting = isResting(at: now)
        return AccountView(
            id: id, provider: provider, label: label, credential: credentialHint, baseUrl: baseUrl, proxy: proxyDisplay, active: isActive,
            health: healthState, available: isAvailable(at: now, budget: budget),
            requestCount: resting || cooldownUntil == nil ? requestCount : 0, budget: budget,
            cooldownUntil: resting ? cooldownUntil.map { Date(epochMs: $0) } : nil, cooldownReason: resting ? cooldownReason : nil,
            consecutiveErrors: consecutiveErrors, lastError: lastError, lastUsedAt: lastUsedMs.map { Date(epochMs: $0) },
            stats: .init(requests: totalRequests, ok: totalOk, rateLimited: totalRateLimited, errors: totalErrors, authFailed: totalAuthFailed),
            createdAt: createdAt, updatedAt: updatedAt)
    }
}
