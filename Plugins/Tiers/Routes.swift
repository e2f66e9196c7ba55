import Foundation
import Son1kPluginKit

extension TiersPlugin {
    func registerRoutes(_ r: inout Registry<Config>) {
        r.get("/api/tiers", auth: .public, summary: "The tier catalog: prices, limits, qualities, storage, features",
              response: Schemas.catalog) { _, ctx in
            try .json(quota(ctx).catalog.catalogJSON)
        }

        r.get("/api/tiers/limits/me", auth: .user, summary: "My tier, what I may still generate, and when it resets",
              response: Schemas.limits) { req, ctx in
            try limits(for: try req.requirePrincipal().id, ctx)
        }

        r.get("/api/tiers/limits/{user_id}", auth: .user, summary: "A user's tier and limits (the user or an admin)",
              description: "The original path; `me` works too.", response: Schemas.limits) { req, ctx in
            try limits(for: req.param("user_id"), ctx)
        }

        r.post("/api/tiers/record-generation", auth: .user, summary: "Record a generation made outside this service",
               description: """
                   Body `{generation_id, quality, user_id?}` (`user_id` only for admins). Takes a slot under the same rules as \
                   `POST /api/generations`: 403 `quality_not_allowed`, 429 `daily_limit_reached`/`monthly_limit_reached` with \
                   `Retry-After` and `RateLimit-*`, 409 `duplicate_generation` for an id already recorded. 201 \
                   `{status: "recorded", generation_id, remaining}`.
                   """,
               // Waits for its batch's commit (RecordBatcher): on a thread of its own, the others
               // keep serving, and the requests that arrive meanwhile join the next batch.
               request: Schemas.record, status: 201, mayWait: true) { req, ctx in
            // Read from the parsed body directly: this route is called by other services at a
            // high rate, and three fields do not need a Decodable round trip.
            let body = try req.json
            guard case .object = body else { throw PluginError.invalid("body", "must be a JSON object.") }
            guard let generationID = body["generation_id"].string else { throw PluginError.invalid("generation_id", "is required (a string).") }
            for field in ["quality", "user_id"] where !body[field].isNull && body[field].string == nil {
                throw PluginError.invalid(field, "must be a string.")
            }
            let principal = try req.requirePrincipal()
            let user = body["user_id"].string ?? principal.id
            guard principal.mayActFor(user) else { throw PluginError.forbidden("Only admins record generations for other users.", code: "not_owner") }
            guard (1...200).contains(generationID.count) else { throw PluginError.invalid("generation_id", "must be 1 to 200 characters.") }
            let quality = body["quality"].string ?? "standard"
            guard TierCatalog.qualities.contains(quality) else { throw PluginError.invalid("quality", "must be standard, high or ultra.") }
            // Committed with whatever other recordings arrive at the same time (RecordBatcher).
            let state = try counted(ctx) {
                try runtime.batcher.record(.init(generationID: generationID, userID: user, quality: quality), quota(ctx))
            }
            var response = try Response.json(["status": "recorded", "generation_id": .string(generationID),
                                              "remaining": .number(Double(state.remaining))] as JSONValue, status: 201)
            response.headers += rateLimitHeaders(state)
            return response
        }

        r.put("/api/tiers/users/{user_id}", auth: .admin, summary: "Change a user's tier (admins)",
              description: "Body `{tier}`; a tier not in the catalog is a 422. Takes effect at once and drops any pending downgrade.",
              request: Schemas.setTier) { req, ctx in
            struct Change: Decodable { var tier: String }
            let input = try req.decode(Change.self)
            let q = quota(ctx)
            guard q.catalog.tier(input.tier) != nil else {
                throw PluginError.invalid("tier", "'\(input.tier)' is not a tier; use one of \(q.catalog.ids.joined(separator: ", ")).")
            }
            try q.setTier(req.param("user_id"), tier: input.tier)
            return try limits(for: req.param("user_id"), ctx)
        }

        r.get("/api/admin/tiers/stats", auth: .admin, summary: "Users per tier, generations today and this month, refusals by reason",
              description: "Users are those the tiers plugin has seen (a generation or a tier change); refusals are counted since the server started.") { _, ctx in
            try .json(try stats(ctx))
        }
    }

    /// The original response shape `{tier, limits, config}` plus `usage`.
    func limits(for userID: String, _ ctx: Context<Config>) throws -> Response {
        let q = quota(ctx)
        let s = try q.state(userID, in: ctx.db)
        var limits: JSONValue = [
            "can_generate": .bool(s.blocker == nil), "remaining": .number(Double(s.remaining)), "limit": .number(Double(s.tier.limit)),
            "period": .string(s.tier.period.rawValue), "reset_at": .string(Periods.iso(s.resetAt)),
        ]
        if let reason = s.blocker { limits["reason"] = .string(reason) }
        var body: JSONValue = [
            "user_id": .string(userID), "tier": .string(s.tier.id), "limits": limits, "config": q.catalog.configs[s.tier.id] ?? s.tier.json,
            "usage": [
                "today": .number(Double(s.today)), "this_month": .number(Double(s.thisMonth)),
                "storage_bytes": .number(Double(s.storageBytes)),
                "storage_limit_bytes": s.tier.storageBytes.map { .number(Double($0)) } ?? .null,
            ],
        ]
        if s.tier.perHour != nil { body["usage"]["this_hour"] = .number(Double(s.thisHour)) }
        if s.subscriptionStatus != nil || s.pendingTier != nil {
            body["subscription"] = [
                "status": s.subscriptionStatus.map { .string($0) } ?? .null,
                "pending_tier": s.pendingTier.map { .string($0) } ?? .null,
                "pending_at": s.pendingAt.map { .string(Periods.iso(Date(timeIntervalSince1970: Double($0) / 1000))) } ?? .null,
            ]
        }
        var response = try Response.json(body)
        response.headers += rateLimitHeaders(s)
        return response
    }

    func rateLimitHeaders(_ s: Quota.State) -> [(String, String)] {
        [("RateLimit-Limit", String(s.tier.limit)), ("RateLimit-Remaining", String(s.remaining)),
         ("RateLimit-Reset", String(s.periods.secondsUntil(s.resetAt)))]
    }

    func stats(_ ctx: Context<Config>) throws -> JSONValue {
        let q = quota(ctx)
        let periods = Periods(now: ctx.now)
        var perTier: [String: JSONValue] = Dictionary(uniqueKeysWithValues: q.catalog.ids.map { ($0, JSONValue.number(0)) })
        let nowMs = periods.now.epochMs
        for row in try ctx.db.query("""
            SELECT CASE WHEN pending_tier IS NOT NULL AND pending_at_ms <= ? THEN pending_tier ELSE tier END AS effective, COUNT(*) AS n
            FROM tiers_users GROUP BY effective
            """, [.int(nowMs)]) {
            if let tier = row["effective"].string { perTier[tier] = row["n"] }
        }
        for (tier, n) in perTier { ctx.metrics.gauge("tiers_users", n.double ?? 0, labels: ["tier": tier]) }
        // The counters already hold every slot taken and not given back.
        let count = { (key: String) -> Int in
            try ctx.db.query("SELECT COALESCE(SUM(used), 0) AS n FROM tiers_counters WHERE period = ?", [.text(key)]).first?["n"].int ?? 0
        }
        let rejections = runtime.rejections.withLock { $0 }
        return [
            "users_per_tier": .object(perTier),
            "generations": ["today": .number(Double(try count(periods.dayKey))),
                            "this_month": .number(Double(try count(periods.monthKey)))],
            "rejections_since_start": .object(rejections.mapValues { .number(Double($0)) }),
        ]
    }
}
