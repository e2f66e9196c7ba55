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

    var id: String
    var generationId: String
    var quality: SongQuality
    var points: Int
    var genre: String?
    var durationS: Double
    var plays: Int
    var likes: Int
    /// Where this caller can fetch the audio: their claimed copy, or their own song's original.
    var audioUrl: String?
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
    static let schemaRules: [FieldRule] = [.length("generation_id", 1...200)]
}

/// A claimed song and how many claims are left today.
struct ClaimView: Codable, Sendable {
    var item: PoolItemView
    var remainingToday: Int
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

    /// The item for `principal`: `audio_url` is their own copy once they claimed it, the
    /// original for its contributor (or an admin), otherwise absent.
    func view(for principal: Principal) throws -> PoolItemView {
        let audio = claimedBlob.map { "/api/blobs/\($0)" }
            ?? (principal.mayActFor(contributorId) ? audioBlobId.map { "/api/blobs/\($0)" } : nil)
        guard let quality = SongQuality(rawValue: quality), let source = PoolItemView.Source(rawValue: source) else {
            throw PluginError(status: 500, code: "pool_item_corrupt", detail: "Pool item \(id) holds an unknown quality or source.")
        }
        return PoolItemView(id: id, generationId: generationId, quality: quality, points: points, genre: genre, durationS: durationS,
                            plays: plays, likes: likes, audioUrl: audio, contributedAt: contributedAt, source: source,
                            claimed: claimedMs != nil, withdrawnAt: withdrawnAt,
                            contributor: ContributorView(userId: contributorId, username: username, avatar: avatar))
    }
}
