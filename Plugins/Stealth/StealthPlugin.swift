import Foundation
import Son1kContracts
import Son1kPluginKit

/// The provider-account router: a deployment's own accounts at upstream generation
/// providers (API keys of a MusicGen server, a commercial API), leased to other plugins in
/// rotation, each within its request budget, rested when rate limited and taken out of
/// rotation when broken or banned. It spreads work across accounts the operator owns; it
/// does not disguise requests, and a banned account comes back only by an admin's hand.
/// See DESIGN §4 "stealth" and docs/STEALTH.md.
public struct StealthPlugin: Plugin {
    public init() {}

    public static let manifest = Manifest(
        name: "stealth", version: "1.0.0",
        description: "Rotates a deployment's provider accounts: budgets, cooldowns, health from reported outcomes, credentials encrypted at rest.")

    /// One provider's settings; unset fields take the plugin-wide ones.
    struct Provider: Codable, Sendable, Equatable {
        var strategy: String?
        /// Where the provider's API lives, unless an account names its own.
        var baseUrl: String?
        /// The header carrying the credential, default `Authorization`.
        var authHeader: String?
        /// Written before the credential in that header, default `Bearer`; "" for the bare key.
        var authScheme: String?
        var budget: Int?
        var cooldownS: Int?
    }

    public struct Config: PluginConfig {
        public init() {}

        /// Key for credentials at rest (any string; SHA-256 makes the AES-256 key). Empty =
        /// accounts cannot be stored.
        var encryptionKey = ""
        /// Accounts to import at start-up (`config/stealth_accounts.json` format), by path.
        var importFile = ""
        var defaultProvider = "musicgen"
        var strategy = Strategy.roundRobin.rawValue
        /// Leases an account gives before it rests.
        var budget = 50
        /// How long it rests then, in seconds.
        var cooldownS = 1800
        /// A rate-limited answer without Retry-After rests the account this long.
        var rateLimitCooldownS = 60
        /// Consecutive errors that make an account degraded.
        var degradedAfter = 3
        var providers: [String: Provider] = [:]

        public static let constraints: [ConfigConstraint] = [
            .secret("encryption_key"),
            .describe("encryption_key", "Encrypts credentials and proxy URLs at rest (AES-256-GCM); e.g. `openssl rand -hex 32`."),
            .describe("import_file", "JSON accounts to import at start-up; already imported ones (same provider and label) are skipped."),
            .oneOf("strategy", Strategy.allCases.map(\.rawValue)),
            .range("budget", 1...1_000_000), .range("cooldown_s", 0...604_800),
            .range("rate_limit_cooldown_s", 0...86_400), .range("degraded_after", 1...1000),
            .describe("providers", "Per provider: strategy, base_url, auth_header, auth_scheme, budget, cooldown_s."),
        ]

        func provider(_ name: String) -> Provider { providers[name] ?? Provider() }
        func strategy(for provider: String) -> Strategy { Strategy(rawValue: self.provider(provider).strategy ?? strategy) ?? .roundRobin }
        func budget(for provider: String) -> Int { max(1, self.provider(provider).budget ?? budget) }
        func cooldownS(for provider: String) -> Int { max(0, self.provider(provider).cooldownS ?? cooldownS) }
    }

    public static let migrations: [Migration] = [
        .init(1, """
            CREATE TABLE stealth_accounts (
                id TEXT PRIMARY KEY,
                seq INTEGER NOT NULL UNIQUE,
                provider TEXT NOT NULL,
                label TEXT NOT NULL,
                credential_sealed TEXT NOT NULL,
                credential_hint TEXT NOT NULL,
                base_url TEXT,
                proxy_sealed TEXT,
                proxy_display TEXT,
                active INTEGER NOT NULL DEFAULT 1,
                health TEXT NOT NULL DEFAULT 'healthy',
                request_count INTEGER NOT NULL DEFAULT 0,
                cooldown_until INTEGER,
                cooldown_reason TEXT,
                consecutive_errors INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                last_used_ms INTEGER,
                total_requests INTEGER NOT NULL DEFAULT 0,
                total_ok INTEGER NOT NULL DEFAULT 0,
                total_rate_limited INTEGER NOT NULL DEFAULT 0,
                total_errors INTEGER NOT NULL DEFAULT 0,
                total_auth_failed INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                UNIQUE (provider, label)
            )
            """),
        .init(2, "CREATE INDEX stealth_accounts_provider ON stealth_accounts (provider, seq)"),
        .init(3, "CREATE TABLE stealth_rotation (provider TEXT PRIMARY KEY, last_seq INTEGER NOT NULL)"),
        .init(4, """
            CREATE TABLE stealth_leases (
                id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL,
                provider TEXT NOT NULL,
                acquired_ms INTEGER NOT NULL,
                outcome TEXT,
                status_code INTEGER,
                reported_ms INTEGER
            )
            """),
        .init(5, "CREATE INDEX stealth_leases_account ON stealth_leases (account_id, acquired_ms)"),
    ]

    public func register(_ r: inout Registry<Config>) {
        r.service(.stealthAcquire) { input, ctx in
            try Rotation(ctx: ctx).acquire(provider: input.provider ?? ctx.config.defaultProvider)
        }
        r.service(.stealthReport) { input, ctx in try Rotation(ctx: ctx).report(input) }
        registerRoutes(&r)
    }

    public func setUp(_ ctx: Context<Config>) throws {
        for (name, provider) in ctx.config.providers {
            if let strategy = provider.strategy, Strategy(rawValue: strategy) == nil {
                throw PluginError.invalid("providers.\(name).strategy", "must be one of \(Strategy.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
        }
    }

    public func start(_ ctx: Context<Config>) throws {
        guard !ctx.config.importFile.isEmpty else { return }
        let summary = try AccountImport(ctx: ctx).run(path: ctx.config.importFile)
        ctx.log.info("imported \(summary.imported) provider account(s) from \(ctx.config.importFile); \(summary.skipped) already present")
    }
}

/// How the next account is chosen among those free.
enum Strategy: String, Codable, CaseIterable, Sendable {
    /// In account order, after the last one leased: stable when accounts join or leave.
    case roundRobin = "round_robin"
    case random
    /// The one with the fewest leases in its current budget window.
    case leastUsed = "least_used"
}
