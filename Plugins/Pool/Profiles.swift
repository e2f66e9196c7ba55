import Son1kPluginKit

/// Contributors' public names, copied from the kernel when they contribute, so a page of the
/// pool or of the ranking is one query and never a call per row.
struct Profiles {
    let ctx: Context<PoolPlugin.Config>

    func refresh(_ users: [String]) throws {
        for (id, profile) in try ctx.call(.userProfiles, UserProfilesRequest(userIds: users)).profiles {
            try ctx.db.exec("""
                INSERT INTO pool_profiles (user_id, username, avatar) VALUES (?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, avatar = excluded.avatar
                """, [.text(id), .text(profile.username), SQLValue(profile.avatar)])
        }
    }

    /// Contributors recorded before the kernel gave every user a picture get theirs.
    func backfillAvatars() throws {
        let missing = try ctx.db.query("SELECT user_id FROM pool_profiles WHERE avatar IS NULL LIMIT 500").compactMap { $0["user_id"].string }
        if !missing.isEmpty { try refresh(missing) }
    }

    /// The profile's pool counters: songs in the pool, the points, likes and plays they
    /// earned, and the songs this user claimed.
    func contribute(to profile: ProfileContributions) throws -> ProfileContributions {
        var profile = profile
        let user: [SQLValue] = [.text(profile.userId)]
        let items = try ctx.db.query("""
            SELECT COUNT(*) AS songs, COALESCE(SUM(points), 0) AS points, COALESCE(SUM(likes), 0) AS likes, COALESCE(SUM(plays), 0) AS plays
            FROM pool_items WHERE contributor_id = ? AND withdrawn_at IS NULL
            """, user).first ?? [:]
        profile.stats["songs_shared"] = items["songs"].int ?? 0
        profile.stats["points"] = items["points"].int ?? 0
        profile.stats["likes_received"] = items["likes"].int ?? 0
        profile.stats["plays_received"] = items["plays"].int ?? 0
        profile.stats["claims"] = try ctx.db.query("SELECT COUNT(*) AS n FROM pool_claims WHERE user_id = ?", user).first?["n"].int ?? 0
        return profile
    }

    /// `{user_id, username, avatar}` from a row holding `contributor_id`, `username`, `avatar`.
    static func contributor(_ row: JSONValue, idColumn: String = "contributor_id") -> JSONValue {
        ["user_id": row[idColumn], "username": row["username"], "avatar": row["avatar"]]
    }
}
