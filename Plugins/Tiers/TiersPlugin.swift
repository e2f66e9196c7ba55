import Foundation
import Son1kContracts
import Son1kPluginKit
import Synchronization

/// Subscription tiers whose limits the server alone enforces: a generation takes a slot in
/// the `generation.before_create` hook, inside the request's transaction, so concurrent
/// requests can never take more than the limit. See DESIGN §4 "tiers" and docs/TIERS.md.
public struct TiersPlugin: Plugin {
    public init() {}

    public static let manifest = Manifest(
        name: "tiers", version: "1.0.0",
        description: "Subscription tiers (FREE, CREATOR, PRO, STUDIO): generation limits, qualities and storage, enforced atomically.")

    public struct Config: PluginConfig {
        public init() {}

        var defaultTier = "FREE"
        /// Changes to the built-in tiers, or new ones, by id: `{"FREE": {"limit": 5}}`.
        var tiers: [String: TierOverride] = [:]

        public static let constraints: [ConfigConstraint] = [
            .describe("default_tier", "The tier of users without a subscription."),
            .describe("tiers", "Overrides by tier id: name, price_usd, period (day|month), limit, qualities, storage_bytes (-1 = unlimited), features, per_hour (0 = off), priority."),
        ]
    }

    public static let migrations: [Migration] = [
        .init(1, """
            CREATE TABLE tiers_users (
                user_id TEXT PRIMARY KEY,
                tier TEXT NOT NULL,
                pending_tier TEXT,
                pending_at_ms INTEGER,
                subscription_status TEXT,
                updated_at TEXT NOT NULL
            )
            """),
        .init(2, "CREATE TABLE tiers_counters (user_id TEXT NOT NULL, period TEXT NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (user_id, period))"),
        .init(3, """
            CREATE TABLE tiers_usage (
                generation_id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                quality TEXT NOT NULL,
                source TEXT NOT NULL,
                status TEXT NOT NULL,
                day_key TEXT NOT NULL,
                month_key TEXT NOT NULL,
                hour_key TEXT,
                size_bytes INTEGER NOT NULL DEFAULT 0,
                freed INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL
            )
            """),
        .init(4, "CREATE TABLE tiers_storage (user_id TEXT PRIMARY KEY, bytes INTEGER NOT NULL)"),
    ]

    /// Set up once the config is known; read by every handler.
    final class Runtime: Sendable {
        let catalog = Mutex<TierCatalog?>(nil)
        /// Refusals by reason since start (a refusal's transaction rolls back, so they are not stored).
        let rejections = Mutex<[String: Int]>([:])
        let batcher = RecordBatcher()
    }
    let runtime = Runtime()

    func quota(_ ctx: Context<Config>) -> Quota {
        Quota(ctx: ctx, catalog: runtime.catalog.withLock { $0! })
    }

    public func setUp(_ ctx: Context<Config>) throws {
        let catalog = try TierCatalog(overrides: ctx.config.tiers, defaultTier: ctx.config.defaultTier)
        runtime.catalog.withLock { $0 = catalog }
    }

    /// Counts a refusal (and exports it as a metric) on its way to the client.
    func counted<T>(_ ctx: Context<Config>, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PluginError where error.status == 403 || error.status == 429 {
            runtime.rejections.withLock { $0[error.code, default: 0] += 1 }
            ctx.metrics.increment("tiers_rejections", labels: ["reason": error.code])
            throw error
        }
    }

    public func register(_ r: inout Registry<Config>) {
        // After every other subscriber may have vetoed for its own reasons; the slot is
        // taken last and rolls back with the request if anything later fails.
        // The profile's tier badge.
        r.onHook(.profileAssemble) { event, ctx in
            var profile = event.payload
            profile.tier = try quota(ctx).tier(of: profile.userId, at: ctx.now).id
            return .replace(profile)
        }
        r.onHook(.generationBeforeCreate, priority: 100) { event, ctx in
            var job = event.payload
            let state = try counted(ctx) {
                try quota(ctx).reserve(job.generationId, for: job.userId, quality: job.quality.rawValue, source: "generation", status: "reserved", in: ctx.db)
            }
            job.priority = max(state.tier.priority, job.priority)
            return .replace(job)
        }
        // A generation that ends without a song gives its slot back. These handlers only
        // write counters: delivered inside the delivery's transaction, exactly once. READ
        // COMMITTED: each one decides with a conditional update of the usage row (`… AND
        // status = 'reserved'`) and then adds to counters, so deliveries made by several
        // instances at once wait on those rows instead of aborting each other's batches.
        for topic: Topic<GenerationEnded> in [.generationFailed, .generationCancelled, .generationTimedOut] {
            r.onAction(topic, transactional: true, isolation: .readCommitted) { event, ctx in try quota(ctx).release(event.payload.generationId) }
        }
        r.onAction(.generationCompleted, transactional: true, isolation: .readCommitted) { event, ctx in
            try quota(ctx).confirm(event.payload.generationId, size: event.payload.size)
        }
        r.onAction(.generationDeleted, transactional: true, isolation: .readCommitted) { event, ctx in
            try quota(ctx).free(event.payload.generationId)
        }
        r.onAction(.subscriptionChanged) { event, ctx in
            try SubscriptionPolicy.apply(event.payload, quota(ctx))
        }
        // For plugins whose rules depend on the tier (the community pool): each user's tier
        // at `at` (ISO 8601, default now) and whether it is paid.
        r.service(.tiersOf) { input, ctx in
            let q = quota(ctx)
            var at = ctx.now
            if let text = input.at {
                guard let date = Date(iso8601: text) else { throw PluginError.invalid("at", "must be an ISO 8601 instant.") }
                at = date
            }
            var users: [String: UserTiers.Entry] = [:]
            for id in input.userIds {
                let tier = try q.tier(of: id, at: at)
                users[id] = .init(tier: tier.id, paid: tier.priceUsd > 0)
            }
            return UserTiers(users: users)
        }
        registerRoutes(&r)
    }
}
