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

    /// `{user_id, username, avatar}` from a row holding `contributor_id`, `username`, `avatar`.
    static func contributor(_ row: JSONValue, idColumn: String = "contributor_id") -> JSONValue {
        ["user_id": row[idColumn], "username": row["username"], "avatar": row["avatar"]]
    }
}
