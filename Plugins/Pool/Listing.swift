import Foundation
import Son1kPluginKit

/// Reading the pool: pages in four orders with keyset cursors, and one item.
struct Listing {
    let ctx: Context<PoolPlugin.Config>

    /// The orders of `GET /api/community/pool?sort_by=`, each a list of columns sorted
    /// descending (the item id last, so the order is total and a cursor is exact).
    enum Sort: String, Codable, CaseIterable, Sendable {
        case recent, popular, quality, likes

        var keys: [(column: String, isText: Bool)] {
            switch self {
            case .recent: [("contributed_ms", false), ("id", true)]
            case .popular: [("plays", false), ("id", true)]
            case .quality: [("points", false), ("contributed_ms", false), ("id", true)]
            case .likes: [("likes", false), ("id", true)]
            }
        }
    }

    /// Everything a view needs, for the caller `?` (the first parameter): their claim, if any
    /// (`claimed_ms` is null when they have none, which is how ``Claims`` lists theirs).
    static let select = """
        SELECT i.id, i.generation_id, i.contributor_id, i.quality, i.points, i.genre, i.duration_s, i.plays, i.likes, i.source,
            i.audio_blob_id, i.preview_blob_id, i.contributed_ms, i.contributed_at, i.withdrawn_at, p.username, p.avatar,
            c.claimed_ms AS claimed_ms, c.blob_id AS claimed_blob, c.claimed_at AS claimed_at
        FROM pool_items i
        LEFT JOIN pool_profiles p ON p.user_id = i.contributor_id
        LEFT JOIN pool_claims c ON c.item_id = i.id AND c.user_id = ?
        """

    func page(for principal: Principal, limit: Int, cursor: String?, genre: String?, sort: Sort) throws -> PoolPage {
        var sql = Self.select + " WHERE i.withdrawn_at IS NULL"
        var params: [SQLValue] = [.text(principal.id)]
        if let genre {
            sql += " AND i.genre = ?"
            params.append(.text(genre))
        }
        let keys = sort.keys
        if let cursor {
            let values = try Self.decodeCursor(cursor, keys: keys)
            sql += " AND (" + keys.map { "i." + $0.column }.joined(separator: ", ") + ") < (" + keys.map { _ in "?" }.joined(separator: ", ") + ")"
            params += values
        }
        sql += " ORDER BY " + keys.map { "i.\($0.column) DESC" }.joined(separator: ", ") + " LIMIT ?"
        params.append(.int(Int64(limit + 1)))
        let rows = try ctx.db.query(ItemRow.self, sql, params)
        let shown = rows.prefix(limit)
        let next = rows.count > limit ? shown.last.map { Self.encodeCursor($0, keys: keys) } : nil
        return PoolPage(items: try Self.views(Array(shown), for: principal, ctx: ctx), nextCursor: next, sortBy: sort)
    }

    /// One item, withdrawn or not (its contributor and claimers still see it).
    func item(_ id: String, for principal: Principal) throws -> PoolItemView {
        guard let row = try ctx.db.queryOne(ItemRow.self, Self.select + " WHERE i.id = ?", [.text(principal.id), .text(id)]) else {
            throw PluginError.notFound("No pool item \(id).", code: "item_not_found")
        }
        return try Self.views([row], for: principal, ctx: ctx)[0]
    }

    /// Rows as `principal` sees them, with the signed URLs of a whole page from one kernel call.
    static func views(_ rows: [ItemRow], for principal: Principal, ctx: Context<PoolPlugin.Config>) throws -> [PoolItemView] {
        let media = try ctx.blobs.urls(rows.flatMap { $0.blobs(for: principal) })
        return try rows.map { try $0.view(for: principal, media: media) }
    }

    // MARK: Cursors: the last row's sort keys, as base64url JSON

    static func encodeCursor(_ row: ItemRow, keys: [(column: String, isText: Bool)]) -> String {
        PageCursor.encode(keys.map { row.key($0.column) })
    }

    static func decodeCursor(_ cursor: String, keys: [(column: String, isText: Bool)]) throws -> [SQLValue] {
        let values = try PageCursor.decode(cursor, count: keys.count)
        return try zip(values, keys).map { value, key in
            if key.isText, let s = value.string { return .text(s) }
            if !key.isText, let n = value.int { return .int(Int64(n)) }
            throw PluginError.invalid("cursor", "is not a cursor this list returned for this sort order.")
        }
    }
}
