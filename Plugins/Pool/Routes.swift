import Foundation
import Son1kPluginKit

extension PoolPlugin {
    func registerRoutes(_ r: inout Registry<Config>) {
        r.get("/api/community/pool", auth: .user, summary: "Songs in the community pool",
              description: """
                  Query: `limit` (1–`max_page_size`, default 20), `cursor` (the previous page's `next_cursor`), `genre` (any case and spacing: `Hip Hop` finds `hiphop`), \
                  `sort_by` = recent (default) | popular (plays) | quality (points) | likes. `audio_url` is a signed URL \
                  that plays without credentials: the full song when you claimed it (your copy) or made it, otherwise the \
                  preview (`audio_kind` says which); `preview_url` is the excerpt (at most 20 s, mono 16 kHz) of an item \
                  you have not claimed.
                  """, returns: PoolPage.self) { req, ctx in
            let sortText = req.query("sort_by") ?? "recent"
            guard let sort = Listing.Sort(rawValue: sortText) else {
                throw PluginError.invalid("sort_by", "must be one of \(Listing.Sort.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            // Display names (`Hip Hop`) find the engine's names (`hiphop`): case, spaces and
            // punctuation aside.
            let genre = req.query("genre").map { String($0.lowercased().filter { $0.isLetter || $0.isNumber }) }.flatMap { $0.isEmpty ? nil : $0 }
            return try Listing(ctx: ctx).page(for: try req.requirePrincipal(), limit: try limit(req, ctx), cursor: req.query("cursor"),
                                              genre: genre, sort: sort)
        }

        r.get("/api/community/pool/{id}", auth: .user, summary: "One pool item", returns: PoolItemView.self) { req, ctx in
            try Listing(ctx: ctx).item(req.param("id"), for: try req.requirePrincipal())
        }

        r.post("/api/community/contribute", auth: .user, summary: "Share one of my completed songs with the pool",
               description: """
                   Body `{generation_id}`. Any tier may share its own completed song, once: 201 with the new item, 200 with \
                   the existing one on a repeat. Points come from the stored generation's quality (standard 1, high 2, \
                   ultra 3), whatever the request says. 404 `generation_not_found`, 409 `not_completed`. \
                   The original clients call this after every generation with `{user_id, generation_id, quality}`, meaning \
                   "contribute if my tier does so automatically": a body with `quality` follows the automatic rule, so a FREE \
                   user's song is refused with 403 `automatic_share_paid_only` (sharing it stays the owner's explicit choice).
                   """, body: Contribution.self, returns: PoolItemView.self, status: 201) { req, input, ctx -> Reply<PoolItemView> in
            let principal = try req.requirePrincipal()
            let contributions = Contributions(ctx: ctx)
            if input.quality != nil {
                let owner = try principal.acting(as: input.userId)
                guard try contributions.tiers([owner], at: nil)[owner]?.paid == true else {
                    throw PluginError.forbidden("Only paid tiers' songs enter the pool automatically; share a FREE song with {generation_id} alone.",
                                                code: "automatic_share_paid_only")
                }
            } else {
                _ = try principal.acting(as: input.userId)
            }
            let (item, created) = try contributions.share(input.generationId, by: principal)
            return Reply(item, status: created ? 201 : 200)
        }

        r.delete("/api/community/pool/{id}", auth: .user, summary: "Withdraw an item from the pool (its contributor or an admin)",
                 description: "Users who already claimed it keep their copy. Sharing the song again puts it back.",
                 returns: PoolItemView.self) { req, ctx in
            let principal = try req.requirePrincipal()
            try Contributions(ctx: ctx).withdraw(itemID: req.param("id"), by: principal)
            return try Listing(ctx: ctx).item(req.param("id"), for: principal)
        }

        r.post("/api/community/pool/claim", auth: .user, summary: "Claim a song from the pool (FREE users)",
               description: """
                   Hands you a song you have not claimed and did not make, the least-claimed first; its audio becomes \
                   yours at `item.audio_url` (also top-level `audio_url`, with `claims_remaining` = `remaining_today`). `claims_per_day` (3) per UTC day: 429 `daily_claim_limit` with \
                   `Retry-After`; 403 `not_free_tier` for paid tiers; 404 `pool_empty` or `nothing_new`.
                   """, returns: ClaimView.self, status: 201) { req, ctx in
            _ = try actor(req)
            return try Claims(ctx: ctx).claim(by: try req.requirePrincipal())
        }

        r.get("/api/community/claims", auth: .user, summary: "My claimed songs, newest first",
              description: "Query: `limit`, `cursor`.", returns: ClaimsPage.self) { req, ctx in
            try Claims(ctx: ctx).mine(for: try req.requirePrincipal(), limit: try limit(req, ctx), cursor: req.query("cursor"))
        }

        r.post("/api/community/pool/like/{id}", auth: .user, summary: "Like an item (once; a repeat changes nothing)",
               returns: LikeView.self) { req, ctx in
            try Engagement(ctx: ctx).like(req.param("id"), by: try actor(req), true)
        }

        r.delete("/api/community/pool/like/{id}", auth: .user, summary: "Take my like back", returns: LikeView.self) { req, ctx in
            try Engagement(ctx: ctx).like(req.param("id"), by: try actor(req), false)
        }

        r.post("/api/community/pool/{id}/play", auth: .user, summary: "Count a play",
               description: "Counted at most once per user and item per `play_window_s` (an hour); `counted` says whether this one was.",
               returns: PlayView.self) { req, ctx in
            try Engagement(ctx: ctx).play(req.param("id"), by: try req.requirePrincipal().id)
        }

        r.get("/api/community/ranking", auth: .user, summary: "Contributors ranked by points earned in a window",
              description: "Query: `timeframe` = week (rolling 7 days, default) | month (30 days) | all_time; `limit` (1–100, default 20).",
              returns: RankingView.self) { req, ctx in
            let text = req.query("timeframe") ?? "week"
            guard let timeframe = Ranking.Timeframe(rawValue: text) else {
                throw PluginError.invalid("timeframe", "must be one of week, month, all_time.")
            }
            return try Ranking(ctx: ctx).ranking(timeframe, limit: try limit(req, ctx))
        }

        r.get("/api/admin/community/stats", auth: .admin, summary: "Pool size, claims today, contributions by tier",
              returns: PoolStats.self) { _, ctx in
            try stats(ctx)
        }
    }

    /// The caller, after checking that a `user_id` the body may carry (the original clients
    /// send one) is theirs; an admin likes or claims as themself too.
    func actor(_ req: Request) throws -> String {
        let principal = try req.requirePrincipal()
        let named = req.body.isEmpty ? nil : (try? req.json)?["user_id"].string
        guard try principal.acting(as: named) == principal.id else {
            throw PluginError.forbidden("Claims and likes are personal: an admin makes them as themself.", code: "not_owner")
        }
        return principal.id
    }

    /// `limit` from the query: 1 to `max_page_size`, 20 by default.
    func limit(_ req: Request, _ ctx: Context<Config>) throws -> Int {
        try req.pageLimit(max: ctx.config.maxPageSize)
    }

    func stats(_ ctx: Context<Config>) throws -> PoolStats {
        struct Count: Decodable { var n: Int }
        struct TierCount: Decodable { var tier: String; var n: Int }
        let size = try ctx.db.queryOne(Count.self, "SELECT COUNT(*) AS n FROM pool_items WHERE withdrawn_at IS NULL")?.n ?? 0
        let day = Claims.day(ctx.now)
        let claims = try ctx.db.queryOne(Count.self, "SELECT COALESCE(SUM(used), 0) AS n FROM pool_claim_days WHERE day = ?", [.text(String(day))])?.n ?? 0
        let byTier = try ctx.db.query(TierCount.self, "SELECT contributor_tier AS tier, COUNT(*) AS n FROM pool_items GROUP BY contributor_tier")
        ctx.metrics.gauge("pool_size", Double(size))
        ctx.metrics.gauge("pool_claims_today", Double(claims))
        return PoolStats(poolSize: size, claimsToday: claims, contributionsByTier: Dictionary(byTier.map { ($0.tier, $0.n) }, uniquingKeysWith: +))
    }
}
