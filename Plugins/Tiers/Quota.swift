import Foundation
import Son1kPluginKit

/// The quota rules, in SQL. Usage is counted per user and UTC period in `tiers_counters`,
/// and a slot is taken with one conditional upsert (`… DO UPDATE SET used = used + 1 WHERE
/// used < limit`): however many requests race, the row lock lets exactly `limit` of them
/// through. Each slot is recorded in `tiers_usage` under its generation id, so giving it back
/// (failed, cancelled, timeout) and confirming it (completed) happen once each, whatever
/// the number of deliveries.
struct Quota {
    typealias Ctx = Context<TiersPlugin.Config>
    let ctx: Ctx
    let catalog: TierCatalog

    /// A user's tier and usage at one instant.
    struct State {
        var userKnown: Bool
        var tier: Tier
        var subscriptionStatus: String?
        var pendingTier: String?
        var pendingAt: Int64?
        var today: Int
        var thisMonth: Int
        var thisHour: Int
        var storageBytes: Int64
        var periods: Periods

        var used: Int { tier.period == .day ? today : thisMonth }
        var remaining: Int { max(0, tier.limit - used) }
        var resetAt: Date { periods.resetAt(tier.period) }

        /// Why the next generation would be refused, if it would.
        var blocker: String? {
            if let limit = tier.storageBytes, storageBytes >= limit { return "storage_quota_exceeded" }
            if remaining == 0 { return tier.period == .day ? "daily_limit_reached" : "monthly_limit_reached" }
            if let perHour = tier.perHour, thisHour >= perHour { return "hourly_limit_reached" }
            return nil
        }
    }

    /// `withCounts: false` leaves the usage counts at 0, for callers that only need the tier
    /// and storage (the counts are enforced in SQL when a slot is taken).
    func state(_ userID: String, in db: Database, withCounts: Bool = true) throws -> State {
        let periods = Periods(now: ctx.now)
        let row = try (withCounts ? db.query("""
            SELECT u.tier, u.pending_tier, u.pending_at_ms, u.subscription_status,
                (SELECT used FROM tiers_counters WHERE user_id = ? AND period = ?) AS today,
                (SELECT used FROM tiers_counters WHERE user_id = ? AND period = ?) AS month,
                (SELECT used FROM tiers_counters WHERE user_id = ? AND period = ?) AS hour,
                (SELECT bytes FROM tiers_storage WHERE user_id = ?) AS storage
            FROM (SELECT 1) AS one LEFT JOIN tiers_users u ON u.user_id = ?
            """, [.text(userID), .text(periods.dayKey), .text(userID), .text(periods.monthKey), .text(userID), .text(periods.hourKey),
                  .text(userID), .text(userID)])
            : db.query("""
            SELECT u.tier, u.pending_tier, u.pending_at_ms, u.subscription_status,
                (SELECT bytes FROM tiers_storage WHERE user_id = ?) AS storage
            FROM (SELECT 1) AS one LEFT JOIN tiers_users u ON u.user_id = ?
            """, [.text(userID), .text(userID)])).first ?? [:]
        let tier = effectiveTier(row, at: periods.now)
        return State(userKnown: row["tier"].string != nil, tier: tier, subscriptionStatus: row["subscription_status"].string,
                     pendingTier: row["pending_tier"].string, pendingAt: row["pending_at_ms"].int.map(Int64.init),
                     today: row["today"].int ?? 0, thisMonth: row["month"].int ?? 0, thisHour: row["hour"].int ?? 0,
                     storageBytes: Int64(row["storage"].int ?? 0), periods: periods)
    }

    /// The user's tier at `at`: a scheduled change counts once its time has come.
    func tier(of userID: String, at: Date) throws -> Tier {
        effectiveTier(try ctx.db.query("SELECT tier, pending_tier, pending_at_ms FROM tiers_users WHERE user_id = ?", [.text(userID)]).first ?? [:], at: at)
    }

    /// The tier a `tiers_users` row gives at `at` (the default tier for no row).
    private func effectiveTier(_ row: JSONValue, at: Date) -> Tier {
        var id = row["tier"].string ?? catalog.defaultTier
        if let pending = row["pending_tier"].string, let when = row["pending_at_ms"].int, Int64(when) <= at.epochMs { id = pending }
        return catalog.tier(id) ?? catalog.tier(catalog.defaultTier)!
    }

    /// Takes a slot for `generationID` inside `tx`, or throws the refusal (403/429 with
    /// `Retry-After` and `RateLimit-*`). `status` is `reserved` for a generation still to run,
    /// `confirmed` for one made elsewhere. Returns the state after the reservation.
    ///
    /// `known` is the user's state read just before the transaction, when the caller has it:
    /// tier and storage then come from that read, while the count itself is still taken
    /// atomically in `tx` — the limit holds either way.
    ///
    /// A refusal leaves nothing written for this request even without a rollback (what it
    /// wrote is undone before it throws), so several requests can share one transaction
    /// (``RecordBatcher``).
    @discardableResult
    func reserve(_ generationID: String, for userID: String, quality: String, source: String, status: String, in tx: Database,
                 known: State? = nil) throws -> State {
        var s = try known ?? state(userID, in: tx)
        guard s.tier.qualities.contains(quality) else {
            throw PluginError(status: 403, code: "quality_not_allowed",
                              detail: "The \(s.tier.name) tier allows \(s.tier.qualities.joined(separator: ", ")) quality, not \(quality).")
        }
        if let limit = s.tier.storageBytes, s.storageBytes >= limit {
            throw PluginError(status: 403, code: "storage_quota_exceeded",
                              detail: "Your songs use \(s.storageBytes) of the \(limit) bytes the \(s.tier.name) tier includes; delete some to make room.")
        }
        let inserted = try tx.exec("""
            INSERT INTO tiers_usage (generation_id, user_id, quality, source, status, day_key, month_key, hour_key, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (generation_id) DO NOTHING
            """, [.text(generationID), .text(userID), .text(quality), .text(source), .text(status), .text(s.periods.dayKey),
                  .text(s.periods.monthKey), SQLValue(s.tier.perHour == nil ? nil : s.periods.hourKey), .text(Periods.iso(s.periods.now))])
        guard inserted.changes == 1 else { throw PluginError.conflict("Generation \(generationID) is already recorded.", code: "duplicate_generation") }
        let undoUsage = { _ = try tx.exec("DELETE FROM tiers_usage WHERE generation_id = ?", [.text(generationID)]) }
        if let perHour = s.tier.perHour, try take(userID, s.periods.hourKey, below: perHour, in: tx) != .taken {
            try undoUsage()
            let reset = s.periods.nextHour
            throw refusal("hourly_limit_reached", "You have made \(perHour) songs this hour, the \(s.tier.name) tier's hourly limit.",
                          limit: perHour, reset: reset, s.periods)
        }
        // The other calendar period is counted too (so usage reads right after a tier change),
        // in the same statement: one fewer round trip while the writer is held.
        let periodKey = s.periods.key(for: s.tier.period)
        let otherKey = s.tier.period == .day ? s.periods.monthKey : s.periods.dayKey
        let outcome = try take(userID, periodKey, below: s.tier.limit, alsoCounting: otherKey, in: tx)
        guard outcome == .taken else {
            if outcome == .refusedButCountedOther { try addUse(userID, otherKey, -1, in: tx) }
            if s.tier.perHour != nil { try addUse(userID, s.periods.hourKey, -1, in: tx) }
            try undoUsage()
            let word = s.tier.period == .day ? "today" : "this month"
            throw refusal(s.tier.period == .day ? "daily_limit_reached" : "monthly_limit_reached",
                          "You have used \(s.tier.limit) of \(s.tier.limit) songs \(word) on the \(s.tier.name) tier; the limit resets at \(Periods.iso(s.resetAt)).",
                          limit: s.tier.limit, reset: s.resetAt, s.periods)
        }
        if !s.userKnown {
            try tx.exec("INSERT INTO tiers_users (user_id, tier, updated_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO NOTHING",
                        [.text(userID), .text(s.tier.id), .text(Periods.iso(s.periods.now))])
        }
        // As read before plus this one; a caller that read `known` before `tx` should re-read
        // the count (``used(_:in:)``) if it reports it, since others may have counted since.
        s.today += 1
        s.thisMonth += 1
        if s.tier.perHour != nil { s.thisHour += 1 }
        return s
    }

    /// Gives a reserved slot back (failed, cancelled, timed out). Idempotent.
    func release(_ generationID: String) throws {
        try ctx.db.transaction { tx in
            guard let row = try tx.query("SELECT user_id, day_key, month_key, hour_key FROM tiers_usage WHERE generation_id = ? AND status = 'reserved'",
                                         [.text(generationID)]).first,
                  try tx.exec("UPDATE tiers_usage SET status = 'released' WHERE generation_id = ? AND status = 'reserved'", [.text(generationID)]).changes == 1
            else { return }
            for key in [row["day_key"], row["month_key"], row["hour_key"]].compactMap(\.string) {
                try tx.exec("UPDATE tiers_counters SET used = used - 1 WHERE user_id = ? AND period = ? AND used > 0", [SQLValue(row["user_id"]), .text(key)])
            }
        }
    }

    /// Confirms a slot (completed) and counts the audio against the user's storage. Idempotent.
    func confirm(_ generationID: String, size: Int64) throws {
        try ctx.db.transaction { tx in
            guard let user = try tx.query("SELECT user_id FROM tiers_usage WHERE generation_id = ? AND status = 'reserved'", [.text(generationID)]).first?["user_id"].string,
                  try tx.exec("UPDATE tiers_usage SET status = 'confirmed', size_bytes = ? WHERE generation_id = ? AND status = 'reserved'",
                              [.int(size), .text(generationID)]).changes == 1
            else { return }
            try addStorage(user, size, in: tx)
        }
    }

    /// The generation's audio was deleted: its bytes no longer count. Idempotent.
    func free(_ generationID: String) throws {
        try ctx.db.transaction { tx in
            guard let row = try tx.query("SELECT user_id, size_bytes FROM tiers_usage WHERE generation_id = ? AND freed = 0", [.text(generationID)]).first,
                  let user = row["user_id"].string,
                  try tx.exec("UPDATE tiers_usage SET freed = 1 WHERE generation_id = ? AND freed = 0", [.text(generationID)]).changes == 1
            else { return }
            try addStorage(user, -Int64(row["size_bytes"].int ?? 0), in: tx)
        }
    }

    /// Sets a user's tier now, or schedules a change for `at` (a downgrade at period end).
    func setTier(_ userID: String, tier: String, at: Int64? = nil, subscriptionStatus: String? = nil) throws {
        let now = Periods.iso(ctx.now)
        if let at {
            try ctx.db.exec("""
                INSERT INTO tiers_users (user_id, tier, pending_tier, pending_at_ms, subscription_status, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET pending_tier = excluded.pending_tier, pending_at_ms = excluded.pending_at_ms,
                    subscription_status = excluded.subscription_status, updated_at = excluded.updated_at
                """, [.text(userID), .text(catalog.defaultTier), .text(tier), .int(at), SQLValue(subscriptionStatus), .text(now)])
        } else {
            try ctx.db.exec("""
                INSERT INTO tiers_users (user_id, tier, subscription_status, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET tier = excluded.tier, pending_tier = NULL, pending_at_ms = NULL,
                    subscription_status = COALESCE(excluded.subscription_status, tiers_users.subscription_status), updated_at = excluded.updated_at
                """, [.text(userID), .text(tier), SQLValue(subscriptionStatus), .text(now)])
        }
    }

    // MARK: Helpers

    /// How many uses of `period` the user has made.
    func used(_ userID: String, _ period: String, in db: Database) throws -> Int {
        try db.query("SELECT used FROM tiers_counters WHERE user_id = ? AND period = ?", [.text(userID), .text(period)]).first?["used"].int ?? 0
    }

    enum Take { case taken, refused, refusedButCountedOther }

    /// One more use of `period` (and of `other`, unconditionally) if fewer than `limit` were
    /// made. One statement for both: one fewer round trip holding the writer. When `period`
    /// is refused, `other` may have been counted all the same (`.refusedButCountedOther`).
    private func take(_ userID: String, _ period: String, below limit: Int, alsoCounting other: String? = nil, in tx: Database) throws -> Take {
        guard limit > 0 else { return .refused }
        let keys = [period] + (other.map { [$0] } ?? [])
        let changed = try tx.exec("""
            INSERT INTO tiers_counters (user_id, period, used) VALUES \(keys.map { _ in "(?, ?, 1)" }.joined(separator: ", "))
            ON CONFLICT (user_id, period) DO UPDATE SET used = tiers_counters.used + 1
            WHERE tiers_counters.period <> ? OR tiers_counters.used < ?
            """, keys.flatMap { [.text(userID), .text($0)] } + [.text(period), .int(Int64(limit))]).changes
        return changed == keys.count ? .taken : (changed == 0 ? .refused : .refusedButCountedOther)
    }

    private func addUse(_ userID: String, _ period: String, _ delta: Int, in tx: Database) throws {
        try tx.exec("UPDATE tiers_counters SET used = used + ? WHERE user_id = ? AND period = ?", [.int(Int64(delta)), .text(userID), .text(period)])
    }

    private func addStorage(_ userID: String, _ delta: Int64, in tx: Database) throws {
        try tx.exec("""
            INSERT INTO tiers_storage (user_id, bytes) VALUES (?, ?)
            ON CONFLICT (user_id) DO UPDATE SET bytes = CASE WHEN tiers_storage.bytes + ? > 0 THEN tiers_storage.bytes + ? ELSE 0 END
            """, [.text(userID), .int(max(delta, 0)), .int(delta), .int(delta)])
    }

    private func refusal(_ code: String, _ detail: String, limit: Int, reset: Date, _ periods: Periods) -> PluginError {
        let seconds = String(periods.secondsUntil(reset))
        return PluginError(status: 429, code: code, detail: detail, headers: [
            "Retry-After": seconds, "RateLimit-Limit": String(limit), "RateLimit-Remaining": "0", "RateLimit-Reset": seconds,
        ])
    }
}
