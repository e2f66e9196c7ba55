import Foundation
import Son1kPluginKit

extension TiersPlugin {
    func registerRoutes(_ r: inout Registry<Config>) {
        r.get("/api/tiers", auth: .public, summary: "The tier catalog: prices, limits, qualities, storage, features",
              returns: CatalogView.self) { _, ctx in
            quota(ctx).catalog.catalog
        }

        r.get("/api/tiers/limits/me", auth: .user, summary: "My tier, what I may still generate, and when it resets",
              returns: LimitsView.self) { req, ctx in
            try limits(for: try req.requirePrincipal().id, ctx)
        }

        r.get("/api/tiers/limits/{user_id}", auth: .user, summary: "A user's tier and limits (the user or an admin)",
              description: "The original path; `me` works too.", returns: LimitsView.self) { req, ctx in
            try limits(for: req.param("user_id"), ctx)
        }

        // Typed in its documentation only: other services call it at a high rate, and its three
        // fields are read from the parsed body without a Decodable round trip.
        r.post("/api/tiers/record-generation", auth: .user, summary: "Record a generation made outside this service",
               description: """
                   `user_id` only for admins. Takes a slot under the same rules as `POST /api/generations`: 403 \
                   `quality_not_allowed`, 429 `daily_limit_reached`/`monthly_limit_reached` with `Retry-After` and \
                   `RateLimit-*`, 409 `duplicate_generation` for an id already recorded.
                   """,
               request: JSONSchema.of(RecordRequest.self), response: JSONSchema.of(RecordedView.self, for: .response), status: 201,
               // Waits for its batch's commit (RecordBatcher): on a thread of its own, the others
               // keep serving, and the requests that arrive meanwhile join the next batch.
               mayWait: true) { req, ctx in
            let body = try req.json
            guard case .object = body else { throw PluginError.invalid("body", "must be a JSON object.") }
            guard let generationID = body["generation_id"].string else { throw PluginError.invalid("generation_id", "is required (a string).") }
            for field in ["quality", "user_id"] where !body[field].isNull && body[field].string == nil {
                throw PluginError.invalid(field, "must be a string.")
            }
            let principal = try req.requirePrincipal()
            let user = try principal.acting(as: body["user_id"].string)
            guard (1...200).contains(generationID.count) else { throw PluginError.invalid("generation_id", "must be 1 to 200 characters.") }
            let quality = body["quality"].string ?? "standard"
            guard TierCatalog.qualities.contains(quality) else { throw PluginError.invalid("quality", "must be standard, high or ultra.") }
            // Committed with whatever other recordings arrive at the same time (RecordBatcher).
            let state = try counted(ctx) {
                try runtime.batcher.record(.init(generationID: generationID, userID: user, quality: quality), quota(ctx))
            }
            var response = try Response.json(RecordedView(status: "recorded", generationId: generationID, remaining: state.remaining), status: 201)
            response.headers += rateLimitHeaders(state)
            return response
        }

        r.put("/api/tiers/users/{user_id}", auth: .admin, summary: "Change a user's tier (admins)",
              description: "A tier not in the catalog is a 422. Takes effect at once and drops any pending downgrade.",
              body: TierChange.self, returns: LimitsView.self) { req, input, ctx in
            let q = quota(ctx)
            guard q.catalog.tier(input.tier) != nil else {
                throw PluginError.invalid("tier", "'\(input.tier)' is not a tier; use one of \(q.catalog.ids.joined(separator: ", ")).")
            }
            try q.setTier(req.param("user_id"), tier: input.tier)
            return try limits(for: req.param("user_id"), ctx)
        }

        r.get("/api/admin/tiers/stats", auth: .admin, summary: "Users per tier, generations today and this month, refusals by reason",
              description: "Users are those the tiers plugin has seen (a generation or a tier change); refusals are counted since the server started.",
              returns: StatsView.self) { _, ctx in
            try stats(ctx)
        }
    }

    /// A user's tier, limits and usage, with the `RateLimit-*` headers.
    func limits(for userID: String, _ ctx: Context<Config>) throws -> Reply<LimitsView> {
        let q = quota(ctx)
        let s = try q.state(userID, in: ctx.db)
        let limits = LimitsView.Limits(canGenerate: s.blocker == nil, remaining: s.remaining, limit: s.tier.limit,
                                       period: s.tier.period, resetAt: Periods.iso(s.resetAt),
                                       reason: s.blocker.flatMap(LimitsView.Reason.init(rawValue:)))
        let usage = LimitsView.Usage(today: s.today, thisMonth: s.thisMonth, thisHour: s.tier.perHour != nil ? s.thisHour : nil,
                                     storageBytes: s.storageBytes, storageLimitBytes: s.tier.storageBytes)
        var subscription: LimitsView.Subscription?
        if s.subscriptionStatus != nil || s.pendingTier != nil {
            subscription = .init(status: s.subscriptionStatus, pendingTier: s.pendingTier,
                                 pendingAt: s.pendingAt.map { Periods.iso(Date(timeIntervalSince1970: Double($0) / 1000)) })
        }
        let view = LimitsView(userId: userID, tier: s.tier.id, limits: limits, config: q.catalog.views[s.tier.id] ?? TierView(s.tier),
                              usage: usage, subscription: subscription)
        return Reply(view, headers: rateLimitHeaders(s))
    }

    func rateLimitHeaders(_ s: Quota.State) -> [(String, String)] {
        [("RateLimit-Limit", String(s.tier.limit)), ("RateLimit-Remaining", String(s.remaining)),
         ("RateLimit-Reset", String(s.periods.secondsUntil(s.resetAt)))]
    }

    func stats(_ ctx: Context<Config>) throws -> StatsView {
        let q = quota(ctx)
        let periods = Periods(now: ctx.now)
        var perTier = Dictionary(uniqueKeysWithValues: q.catalog.ids.map { ($0, 0) })
        let nowMs = periods.now.epochMs
        for row in try ctx.db.query("""
            SELECT CASE WHEN pending_tier IS NOT NULL AND pending_at_ms <= ? THEN pending_tier ELSE tier END AS effective, COUNT(*) AS n
            FROM tiers_users GROUP BY effective
            """, [.int(nowMs)]) {
            if let tier = row["effective"].string { perTier[tier] = row["n"].int ?? 0 }
        }
        for (tier, n) in perTier { ctx.metrics.gauge("tiers_users", Double(n), labels: ["tier": tier]) }
        // The counters already hold every slot taken and not given back.
        let count = { (key: String) -> Int in
            try ctx.db.query("SELECT COALESCE(SUM(used), 0) AS n FROM tiers_counters WHERE period = ?", [.text(key)]).first?["n"].int ?? 0
        }
        return StatsView(usersPerTier: perTier, generations: .init(today: try count(periods.dayKey), thisMonth: try count(periods.monthKey)),
                         rejectionsSinceStart: runtime.rejections.withLock { $0 })
    }
}
