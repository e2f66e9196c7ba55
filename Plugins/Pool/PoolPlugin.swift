import Foundation
import Son1kContracts
import Son1kPluginKit

/// The community pool: paid users' songs shared with FREE users. A share of paid users'
/// completed generations enters it automatically (chosen by a hash of the generation id, so
/// reproducibly and once), owners share their own songs explicitly, FREE users claim a few a
/// day, everyone likes and plays, and contributors are ranked by the points they earned in a
/// window. See DESIGN §4 "pool" and docs/POOL.md.
public struct PoolPlugin: Plugin {
    public init() {}

    public static let manifest = Manifest(
        name: "pool", version: "1.0.0",
        description: "The community pool: shared songs, daily claims for FREE users, likes, plays and a contributor ranking.",
        requires: ["generation", "tiers"])

    public struct Config: PluginConfig {
        public init() {}

        /// The share of paid users' completed generations that enter the pool by themselves.
        var autoSharePercent = 5.0
        var claimsPerDay = 3
        /// The largest `limit` a list accepts.
        var maxPageSize = 100
        /// A user's plays of one item count once per this many seconds.
        var playWindowS = 3600

        public static let constraints: [ConfigConstraint] = [
            .range("auto_share_percent", 0...100),
            .range("claims_per_day", 0...1000),
            .range("max_page_size", 1...1000),
            .range("play_window_s", 0...2_592_000),
            .describe("auto_share_percent", "Percent of paid users' completed generations shared automatically (a hash of the generation id decides)."),
        ]
    }

    public static let migrations: [Migration] = [
        .init(1, """
            CREATE TABLE pool_items (
                id TEXT PRIMARY KEY,
                generation_id TEXT NOT NULL UNIQUE,
                contributor_id TEXT NOT NULL,
                contributor_tier TEXT NOT NULL,
                source TEXT NOT NULL,
                quality TEXT NOT NULL,
                points INTEGER NOT NULL,
                genre TEXT,
                duration_s REAL NOT NULL,
                audio_blob_id TEXT NOT NULL,
                plays INTEGER NOT NULL DEFAULT 0,
                likes INTEGER NOT NULL DEFAULT 0,
                claims INTEGER NOT NULL DEFAULT 0,
                contributed_ms INTEGER NOT NULL,
                contributed_at TEXT NOT NULL,
                withdrawn_at TEXT
            )
            """),
        // One index per sort order of the listing, over the items still in the pool.
        .init(2, "CREATE INDEX pool_items_recent ON pool_items (contributed_ms, id) WHERE withdrawn_at IS NULL"),
        .init(3, "CREATE INDEX pool_items_genre ON pool_items (genre, contributed_ms, id) WHERE withdrawn_at IS NULL"),
        .init(4, "CREATE INDEX pool_items_plays ON pool_items (plays, id) WHERE withdrawn_at IS NULL"),
        .init(5, "CREATE INDEX pool_items_likes ON pool_items (likes, id) WHERE withdrawn_at IS NULL"),
        .init(6, "CREATE INDEX pool_items_points ON pool_items (points, contributed_ms, id) WHERE withdrawn_at IS NULL"),
        .init(7, "CREATE INDEX pool_items_contributor ON pool_items (contributor_id, contributed_ms)"),
        .init(8, """
            CREATE TABLE pool_claims (
                user_id TEXT NOT NULL,
                item_id TEXT NOT NULL,
                blob_id TEXT,
                claimed_ms INTEGER NOT NULL,
                claimed_at TEXT NOT NULL,
                PRIMARY KEY (user_id, item_id)
            )
            """),
        .init(9, "CREATE INDEX pool_claims_recent ON pool_claims (user_id, claimed_ms, item_id)"),
        .init(10, "CREATE TABLE pool_claim_days (user_id TEXT NOT NULL, day TEXT NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (user_id, day))"),
        .init(11, "CREATE TABLE pool_likes (item_id TEXT NOT NULL, user_id TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (item_id, user_id))"),
        .init(12, "CREATE TABLE pool_plays (item_id TEXT NOT NULL, user_id TEXT NOT NULL, last_ms INTEGER NOT NULL, PRIMARY KEY (item_id, user_id))"),
        .init(13, "CREATE TABLE pool_profiles (user_id TEXT PRIMARY KEY, username TEXT NOT NULL, avatar TEXT)"),
        // The excerpt those who have not claimed an item may hear (``Previews``).
        .init(14, "ALTER TABLE pool_items ADD COLUMN preview_blob_id TEXT"),
    ]

    public func register(_ r: inout Registry<Config>) {
        // Database work only (and reads of other plugins' services), so delivered inside the
        // delivery's transaction; the item's unique generation id keeps a replay a no-op too.
        // Both write with one statement each (an insert `ON CONFLICT DO NOTHING`, a conditional
        // update), so READ COMMITTED is as exact and lets several instances deliver at once.
        r.onAction(.generationCompleted, transactional: true, isolation: .readCommitted) { event, ctx in
            try Contributions(ctx: ctx).autoShare(event)
        }
        // The song's audio is gone with it: it leaves the pool (claims keep their own copies).
        r.onAction(.generationDeleted, transactional: true, isolation: .readCommitted) { event, ctx in
            let contributions = Contributions(ctx: ctx)
            try contributions.withdraw(generationID: event.payload.generationId)
            try contributions.forgetPreview(generationID: event.payload.generationId)
        }
        r.onHook(.profileAssemble) { event, ctx in .replace(try Profiles(ctx: ctx).contribute(to: event.payload)) }
        r.worker(PreviewJob.self, concurrency: 1) { job, ctx in try Previews(ctx: ctx).make(job) }
        r.worker(DropPreviewJob.self, concurrency: 1) { job, ctx in try Previews(ctx: ctx).drop(job) }
        registerRoutes(&r)
    }

    public func start(_ ctx: Context<Config>) throws {
        try Previews(ctx: ctx).backfill()
        try Profiles(ctx: ctx).backfillAvatars()
    }
}
