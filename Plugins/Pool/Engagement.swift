import Son1kPluginKit

/// Likes (one per user per item, and undone) and plays (one per user per item per window).
/// The counters on the item move only when the per-user row actually changed, in the same
/// transaction, so repeats and races cannot inflate them.
struct Engagement {
    let ctx: Context<PoolPlugin.Config>

    func like(_ itemID: String, by user: String, _ liked: Bool) throws -> LikeView {
        let likes = try ctx.db.transaction { tx -> Int in
            try Self.requireActive(itemID, in: tx)
            let changed = liked
                ? try tx.exec("INSERT INTO pool_likes (item_id, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT (item_id, user_id) DO NOTHING",
                              [.text(itemID), .text(user), .text(ctx.now.iso8601)]).changes
                : try tx.exec("DELETE FROM pool_likes WHERE item_id = ? AND user_id = ?", [.text(itemID), .text(user)]).changes
            if changed == 1 {
                try tx.exec("UPDATE pool_items SET likes = CASE WHEN likes + ? < 0 THEN 0 ELSE likes + ? END WHERE id = ?", [.int(liked ? 1 : -1), .int(liked ? 1 : -1), .text(itemID)])
            }
            return try Self.counter("likes", itemID, in: tx)
        }
        return LikeView(itemId: itemID, likes: likes, liked: liked)
    }

    func play(_ itemID: String, by user: String) throws -> PlayView {
        let nowMs = ctx.now.epochMs
        let (plays, counted) = try ctx.db.transaction { tx -> (Int, Bool) in
            try Self.requireActive(itemID, in: tx)
            let counted = try tx.exec("""
                INSERT INTO pool_plays (item_id, user_id, last_ms) VALUES (?, ?, ?)
                ON CONFLICT (item_id, user_id) DO UPDATE SET last_ms = excluded.last_ms WHERE excluded.last_ms - pool_plays.last_ms >= ?
                """, [.text(itemID), .text(user), .int(nowMs), .int(Int64(ctx.config.playWindowS) * 1000)]).changes == 1
            if counted { try tx.exec("UPDATE pool_items SET plays = plays + 1 WHERE id = ?", [.text(itemID)]) }
            return (try Self.counter("plays", itemID, in: tx), counted)
        }
        return PlayView(itemId: itemID, plays: plays, counted: counted)
    }

    private static func requireActive(_ itemID: String, in tx: Database) throws {
        guard try !tx.query("SELECT 1 FROM pool_items WHERE id = ? AND withdrawn_at IS NULL", [.text(itemID)]).isEmpty else {
            throw PluginError.notFound("No pool item \(itemID).", code: "item_not_found")
        }
    }

    private static func counter(_ column: String, _ itemID: String, in tx: Database) throws -> Int {
        try tx.query("SELECT \(column) AS n FROM pool_items WHERE id = ?", [.text(itemID)]).first?["n"].int ?? 0
    }
}
