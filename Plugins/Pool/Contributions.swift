import Foundation
import Son1kContracts
import Son1kPluginKit

/// How songs enter and leave the pool.
///
/// Every fact about a song — its owner, its quality and so its points, its audio — comes from
/// the generation plugin's stored job (`generation.lookup`) or from the `generation.completed`
/// action it published, never from a client's request.
struct Contributions {
    let ctx: Context<PoolPlugin.Config>

    /// Points a contribution earns, by the stored quality.
    static let points = ["standard": 1, "high": 2, "ultra": 3]

    /// Whether `generationID` is among the `percent` chosen for automatic sharing: a hash of
    /// the id, so the choice is reproducible, the same on every delivery, and spread evenly.
    static func isSelected(_ generationID: String, percent: Double) -> Bool {
        guard percent > 0 else { return false }
        guard percent < 100 else { return true }
        // FNV-1a, then a 64-bit finaliser (splitmix64) so ids that differ only in their last
        // characters still land far apart.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in generationID.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        h ^= h >> 31
        return Double(h % 1_000_000) < percent * 10_000
    }

    /// `generation.completed`: a paid user's song enters the pool when the hash selects it.
    func autoShare(_ event: TypedEvent<GenerationCompleted>) throws {
        let done = event.payload
        guard Self.isSelected(done.generationId, percent: ctx.config.autoSharePercent) else { return }
        // The tier the user had when the song was completed (the action's own time).
        let tier = try tiers([done.userId], at: event.occurredAt)[done.userId]
        guard let tier, tier.paid else { return }
        let song = Song(generationID: done.generationId, userID: done.userId, quality: done.quality.rawValue,
                        genre: done.genre, durationS: done.durationS, audioBlobID: done.audioBlobId)
        _ = try insert(song, tier: tier.id, source: "auto")
    }

    /// `POST /api/community/contribute`: the owner shares a completed song. Returns the item
    /// and whether it is new (a second call returns the existing one).
    func share(_ generationID: String, by principal: Principal) throws -> (item: PoolItemView, created: Bool) {
        let stored: GenerationFacts
        do {
            stored = try ctx.call(.generationLookup, GenerationLookup(generationId: generationID))
        } catch let error as PluginError where error.status == 404 {
            throw PluginError.notFound("No generation \(generationID) of yours.", code: "generation_not_found")
        }
        let owner = stored.userId
        guard principal.mayActFor(owner) else {
            throw PluginError.notFound("No generation \(generationID) of yours.", code: "generation_not_found")
        }
        guard stored.status == "completed", let blob = stored.audioBlobId else {
            throw PluginError.conflict("Generation \(generationID) is \(stored.status); only a completed song can be shared.", code: "not_completed")
        }
        if let existing = try itemID(forGeneration: generationID) {
            // Sharing again after withdrawing puts the same item back (same points, same time).
            try ctx.db.exec("UPDATE pool_items SET withdrawn_at = NULL WHERE id = ?", [.text(existing)])
            return (try Listing(ctx: ctx).item(existing, for: principal), false)
        }
        let tier = try tiers([owner], at: nil)[owner]?.id ?? "unknown"
        let song = Song(generationID: generationID, userID: owner, quality: stored.quality.rawValue,
                        genre: stored.genre, durationS: stored.durationS, audioBlobID: blob)
        let (id, created) = try insert(song, tier: tier, source: "shared")
        return (try Listing(ctx: ctx).item(id, for: principal), created)
    }

    /// Takes an item out of the pool (the owner, an admin, or its generation's deletion).
    /// Claims already made keep their audio.
    func withdraw(generationID: String) throws {
        try ctx.db.exec("UPDATE pool_items SET withdrawn_at = ? WHERE generation_id = ? AND withdrawn_at IS NULL",
                        [.text(ctx.now.iso8601), .text(generationID)])
    }

    /// The song was deleted: its preview goes too, deleted by a job once this commits (the
    /// blob store writes outside the delivery's transaction, and waiting on it from inside
    /// would wait on ourselves).
    func forgetPreview(generationID: String) throws {
        guard let preview = try ctx.db.query("SELECT preview_blob_id FROM pool_items WHERE generation_id = ?",
                                             [.text(generationID)]).first?["preview_blob_id"].string else { return }
        try ctx.db.exec("UPDATE pool_items SET preview_blob_id = NULL WHERE generation_id = ?", [.text(generationID)])
        try ctx.jobs.enqueue(DropPreviewJob(blobId: preview))
    }

    func withdraw(itemID: String, by principal: Principal) throws {
        guard let row = try ctx.db.query("SELECT contributor_id FROM pool_items WHERE id = ?", [.text(itemID)]).first else {
            throw PluginError.notFound("No pool item \(itemID).", code: "item_not_found")
        }
        guard let owner = row["contributor_id"].string, principal.mayActFor(owner) else {
            throw PluginError.forbidden("Only the contributor or an admin can withdraw an item.", code: "not_owner")
        }
        try ctx.db.exec("UPDATE pool_items SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL", [.text(ctx.now.iso8601), .text(itemID)])
    }

    // MARK: Helpers

    struct Song {
        var generationID: String
        var userID: String
        var quality: String
        var genre: String?
        var durationS: Double
        var audioBlobID: String
    }

    /// Records the contribution once per generation; returns the item id and whether it is new.
    private func insert(_ song: Song, tier: String, source: String) throws -> (String, Bool) {
        let id = "pit_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
        let now = ctx.now
        let changes = try ctx.db.exec("""
            INSERT INTO pool_items (id, generation_id, contributor_id, contributor_tier, source, quality, points, genre, duration_s,
                audio_blob_id, contributed_ms, contributed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (generation_id) DO NOTHING
            """, [.text(id), .text(song.generationID), .text(song.userID), .text(tier), .text(source), .text(song.quality),
                  .int(Int64(Self.points[song.quality] ?? 1)), song.genre.map { .text($0) } ?? .null, .double(song.durationS), .text(song.audioBlobID),
                  .int(now.epochMs), .text(now.iso8601)]).changes
        guard changes == 1 else { return (try itemID(forGeneration: song.generationID) ?? id, false) }
        try Previews(ctx: ctx).request(String(id))
        try Profiles(ctx: ctx).refresh([song.userID])
        ctx.metrics.increment("pool_contributions", labels: ["tier": tier, "source": source])
        return (String(id), true)
    }

    private func itemID(forGeneration id: String) throws -> String? {
        try ctx.db.query("SELECT id FROM pool_items WHERE generation_id = ?", [.text(id)]).first?["id"].string
    }

    /// Each user's tier (at `at`, ISO 8601; now when nil) from the tiers plugin.
    func tiers(_ users: [String], at: String?) throws -> [String: (id: String, paid: Bool)] {
        guard !users.isEmpty else { return [:] }
        return try ctx.call(.tiersOf, TiersOf(userIds: users, at: at)).users.mapValues { ($0.tier, $0.paid) }
    }

}
