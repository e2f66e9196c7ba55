import Foundation
import Son1kPluginKit

/// FREE users take songs from the pool: a few a day, each item at most once per user, never
/// their own.
///
/// The daily count is a conditional upsert (`… used = used + 1 WHERE used < limit`) and the
/// claim row's primary key is (user, item), both in one transaction: however many claims race,
/// no more than the limit pass and no item is handed to a user twice. The audio is granted as
/// the user's own blob record of the same content (the blob store keeps one file per content),
/// so the kernel's blob route serves it to them, and it stays theirs if the item is withdrawn.
struct Claims {
    let ctx: Context<PoolPlugin.Config>

    func claim(by principal: Principal) throws -> ClaimView {
        let user = principal.id
        let contributions = Contributions(ctx: ctx)
        if let tier = try contributions.tiers([user], at: nil)[user], tier.paid {
            throw PluginError.forbidden("Claiming from the pool is for FREE users; your \(tier.id) songs are your own.", code: "not_free_tier")
        }
        let now = ctx.now
        let day = Self.day(now)
        let picked = try ctx.db.transaction { tx -> JSONValue in
            let taken = try tx.exec("""
                INSERT INTO pool_claim_days (user_id, day, used) VALUES (?, ?, 1)
                ON CONFLICT (user_id, day) DO UPDATE SET used = pool_claim_days.used + 1 WHERE pool_claim_days.used < ?
                """, [.text(user), .text(String(day)), .int(Int64(ctx.config.claimsPerDay))]).changes == 1
            guard taken, ctx.config.claimsPerDay > 0 else {
                let reset = Date(timeIntervalSince1970: Double((day + 1) * 86_400))
                let seconds = String(max(1, Int(reset.timeIntervalSince(now).rounded(.up))))
                throw PluginError(status: 429, code: "daily_claim_limit",
                                  detail: "You have claimed \(ctx.config.claimsPerDay) songs today; claims reset at \(reset.iso8601).",
                                  headers: ["Retry-After": seconds])
            }
            // The least-claimed songs first, at random among equals, so claims spread out.
            guard let item = try tx.query("""
                SELECT i.id, i.audio_blob_id FROM pool_items i
                WHERE i.withdrawn_at IS NULL AND i.contributor_id <> ?
                    AND NOT EXISTS (SELECT 1 FROM pool_claims c WHERE c.user_id = ? AND c.item_id = i.id)
                ORDER BY i.claims, RANDOM() LIMIT 1
                """, [.text(user), .text(user)]).first, let id = item["id"].string
            else {
                // Thrown inside the transaction: the day's count rolls back with it.
                let others = try tx.query("SELECT 1 FROM pool_items WHERE withdrawn_at IS NULL AND contributor_id <> ? LIMIT 1", [.text(user)])
                throw others.isEmpty
                    ? PluginError.notFound("The pool has no songs to claim yet.", code: "pool_empty")
                    : PluginError.notFound("You have claimed every song in the pool; come back when new ones are shared.", code: "nothing_new")
            }
            try tx.exec("INSERT INTO pool_claims (user_id, item_id, claimed_ms, claimed_at) VALUES (?, ?, ?, ?)",
                        [.text(user), .text(id), .int(now.epochMs), .text(now.iso8601)])
            try tx.exec("UPDATE pool_items SET claims = claims + 1 WHERE id = ?", [.text(id)])
            return item
        }
        let itemID = picked["id"].string ?? ""
        // The blob store is the kernel's and writes outside this plugin's transactions, so the
        // grant follows the commit; if it fails, the claim is undone and the slot given back.
        do {
            guard let source = picked["audio_blob_id"].string else { throw PluginError(status: 500, code: "claim_failed", detail: "The item has no audio.") }
            let original = try ctx.blobs.get(source)
            let copy = try ctx.blobs.put(original.bytes, contentType: original.info.contentType, ownerID: user)
            try ctx.db.exec("UPDATE pool_claims SET blob_id = ? WHERE user_id = ? AND item_id = ?", [.text(copy.id), .text(user), .text(itemID)])
        } catch {
            try ctx.db.transaction { tx in
                try tx.exec("DELETE FROM pool_claims WHERE user_id = ? AND item_id = ?", [.text(user), .text(itemID)])
                try tx.exec("UPDATE pool_items SET claims = claims - 1 WHERE id = ? AND claims > 0", [.text(itemID)])
                try tx.exec("UPDATE pool_claim_days SET used = used - 1 WHERE user_id = ? AND day = ? AND used > 0", [.text(user), .text(String(day))])
            }
            ctx.log.error("claim of \(itemID) by \(user) undone: its audio could not be granted (\(error))")
            throw PluginError(status: 503, code: "claim_failed", detail: "The song's audio could not be granted; nothing was claimed. Try again.")
        }
        let used = try ctx.db.query("SELECT used FROM pool_claim_days WHERE user_id = ? AND day = ?", [.text(user), .text(String(day))]).first?["used"].int ?? 0
        ctx.metrics.increment("pool_claims")
        return ClaimView(item: try Listing(ctx: ctx).item(itemID, for: principal), remainingToday: max(0, ctx.config.claimsPerDay - used))
    }

    /// `GET /api/community/claims`: the caller's claims, newest first.
    func mine(for principal: Principal, limit: Int, cursor: String?) throws -> ClaimsPage {
        // The listing's join, kept to the rows where the caller's claim matched.
        var sql = Listing.select + " WHERE c.claimed_ms IS NOT NULL"
        var params: [SQLValue] = [.text(principal.id)]
        let keys: [(column: String, isText: Bool)] = [("claimed_ms", false), ("item_id", true)]
        if let cursor {
            params += try Listing.decodeCursor(cursor, keys: keys)
            sql += " AND (c.claimed_ms, c.item_id) < (?, ?)"
        }
        sql += " ORDER BY c.claimed_ms DESC, c.item_id DESC LIMIT ?"
        params.append(.int(Int64(limit + 1)))
        let rows = try ctx.db.query(ItemRow.self, sql, params)
        let shown = rows.prefix(limit)
        let next = rows.count > limit ? shown.last.map { Listing.encodeCursor($0, keys: keys) } : nil
        let views = try Listing.views(Array(shown), for: principal, ctx: ctx)
        return ClaimsPage(items: zip(shown, views).map { row, item in
            .init(item: item, claimedAt: row.claimedAt ?? row.contributedAt, audioUrl: item.audioUrl)
        }, nextCursor: next)
    }

    /// Days since 1970-01-01 UTC: claims reset at midnight UTC.
    static func day(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / 86_400).rounded(.down)) }
}
