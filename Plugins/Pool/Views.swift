import Foundation
import Son1kContracts
import Son1kPluginKit

/// Who shared a song, as anyone may see them.
struct ContributorView: Codable, Sendable {
    var userId: String
    var username: String?
    var avatar: String?
}

/// A song in the pool: the original item shape plus `points`, `duration_s`, `claimed` and `source`.
struct PoolItemView: Codable, Sendable {
    enum Source: String, Codable, CaseIterable, Sendable { case auto, shared }
    enum AudioKind: String, Codable, Sendable { case full, preview }

    var id: String
    var generationId: String
    var quality: SongQuality
    var points: Int
    var genre: String?
    var durationS: Double
    var plays: Int
    var likes: Int
    /// A signed URL that plays without credentials: the full song for whoever claimed it (their
    /// own copy) and for its contributor; for anyone else the preview (see `audio_kind`), so a
    /// player that plays `audio_url` plays what this caller may hear.
    var audioUrl: String?
    /// What `audio_url` leads to: `full` or `preview`; absent with `audio_url`.
    var audioKind: AudioKind?
    /// The excerpt (at most 20 s, mono 16 kHz) while this caller has not claimed the item;
    /// absent once claimed, and until the pool has made it (moments after contribution).
    var previewUrl: String?
    var contributedAt: Date
    var source: Source
    /// Whether this caller claimed it.
    var claimed: Bool
    var withdrawnAt: Date?
    var contributor: ContributorView
}

/// A page of the pool.
struct PoolPage: Codable, Sendable {
    var items: [PoolItemView]
    var nextCursor: String?
    var sortBy: Listing.Sort
}

/// The body of `POST /api/community/contribute`.
struct Contribution: Codable, Sendable, SchemaRules {
    var generationId: String
    /// Sent by the original clients' automatic contribution (see the route); must be yours.
    var userId: String?
    /// Present in the original clients' automatic contribution, which then follows the
    /// automatic rule; never used as the song's quality (the stored one is).
    var quality: String?
    static let schemaRules: [FieldRule] = [.length("generation_id", 1...200)]
}

/// A claimed song and how many claims are left today.
struct ClaimView: Codable, Sendable {
    var item: PoolItemView
    var remainingToday: Int
    /// The claimed song's signed URL (the item's `audio_url`), where the original clients read it.
    var audioUrl: String?
    /// `remaining_today` under the original clients' name.
    var claimsRemaining: Int

    init(item: PoolItemView, remainingToday: Int) {
        self.item = item
        self.remainingToday = remainingToday
        audioUrl = item.audioUrl
        claimsRemaining = remainingToday
    }
}

/// The caller's claims, newest first.
struct ClaimsPage: Codable, Sendable {
    struct Claimed: Codable, Sendable {
        var item: PoolItemView
        var claimedAt: Date
        /// The caller's own copy of the audio.
        var audioUrl: String?
    }

    var items: [Claimed]
    var nextCursor: String?
}

struct LikeView: Codable, Sendable {
    var itemId: String
    var likes: Int
    var liked: Bool
}

struct PlayView: Codable, Sendable {
    var itemId: String
    var plays: Int
    /// Whether this play counted (once per user and item per `play_window_s`).
    var counted: Bool
}

/// Contributors ranked by points earned in a window.
struct RankingView: Codable, Sendable {
    struct Entry: Codable, Sendable {
        var rank: Int
        var userId: String
        var username: String?
        var avatar: String?
        var tier: String?
        var contributions: Int
        var points: Int
        var lastContribution: Date
    }

    var ranking: [Entry]
    var timeframe: Ranking.Timeframe
}

/// `GET /api/admin/community/stats`.
struct PoolStats: Codable, Sendable {
    var poolSize: Int
    var claimsToday: Int
    var contributionsByTier: [String: Int]
}

/// A row of ``Listing/select``: an item, its contributor's profile and the caller's claim.
struct ItemRow: Decodable, Sendable {
    var id: String
    var generationId: String
    var contributorId: String
    var quality: String
    var points: Int
    var genre: String?
    var durationS: Double
    var plays: Int
    var likes: Int
    var source: String
    var audioBlobId: String?
    var previewBlobId: String?
    var contributedMs: Int64
    var contributedAt: Date
    var withdrawnAt: Date?
    var username: String?
    var avatar: String?
    var claimedMs: Int64?
    var claimedBlob: String?
    var claimedAt: Date?

    /// A sort key's value, for a page's cursor.
    func key(_ column: String) -> JSONValue {
        switch column {
        case "contributed_ms": .integer(contributedMs)
        case "plays": .integer(Int64(plays))
        case "points": .integer(Int64(points))
        case "likes": .integer(Int64(likes))
        case "claimed_ms": claimedMs.map { .integer($0) } ?? .null
        default: .string(id)  // "id" and "item_id"
        }
    }

    /// The blobs ``view(for:media:)`` may link for `principal`, whose signed URLs it needs.
    func blobs(for principal: Principal) -> [String] {
        [claimedBlob, principal.mayActFor(contributorId) ? audioBlobId : nil, claimedBlob == nil ? previewBlobId : nil].compactMap { $0 }
    }

    /// The item for `principal`, with `media` the signed URLs of ``blobs(for:)``: `audio_url`
    /// is their own copy once they claimed it, the original for its contributor (or an admin),
    /// otherwise the preview.
    func view(for principal: Principal, media: [String: String]) throws -> PoolItemView {
        let full = claimedBlob.flatMap { media[$0] } ?? (principal.mayActFor(contributorId) ? audioBlobId.flatMap { media[$0] } : nil)
        let preview = claimedBlob == nil ? previewBlobId.flatMap { media[$0] } : nil
        let audio = full ?? preview
        guard let quality = SongQuality(rawValue: quality), let source = PoolItemView.Source(rawValue: source) else {
            throw PluginError(status: 500, code: "pool_item_corrupt", detail: "Pool item \(id) holds an unknown quality or source.")
        }
        return PoolItemView(id: id, generationId: generationId, quality: quality, points: points, genre: genre, durationS: durationS,
                            plays: plays, likes: likes, audioUrl: audio,
                            audioKind: audio == nil ? nil : (full != nil ? .full : .preview), previewUrl: preview, contributedAt: contributedAt, source: source,
                            claimed: claimedMs != nil, withdrawnAt: withdrawnAt,
                            contributor: ContributorView(userId: contributorId, username: username, avatar: avatar))
    }
}
