import Foundation
import Son1kPluginKit

/// Contributors ranked by the points they earned **within** the window: a rolling 7 or 30
/// days back from now, or all time. Ties go to whoever contributed first in the window.
/// Withdrawn items earn nothing.
struct Ranking {
    let ctx: Context<PoolPlugin.Config>

    enum Timeframe: String, Codable, CaseIterable, Sendable {
        case week, month, allTime = "all_time"

        var days: Int? {
            switch self {
            case .week: 7
            case .month: 30
            case .allTime: nil
            }
        }
    }

    func ranking(_ timeframe: Timeframe, limit: Int) throws -> RankingView {
        struct Row: Decodable {
            var contributorId: String
            var points: Int
            var contributions: Int
            var lastContribution: Date
            var username: String?
            var avatar: String?
        }
        let since = timeframe.days.map { ctx.now.epochMs - Int64($0) * 86_400_000 } ?? Int64.min
        let rows = try ctx.db.query(Row.self, """
            SELECT i.contributor_id, SUM(i.points) AS points, COUNT(*) AS contributions, MIN(i.contributed_ms) AS first_ms,
                MAX(i.contributed_at) AS last_contribution, p.username, p.avatar
            FROM pool_items i LEFT JOIN pool_profiles p ON p.user_id = i.contributor_id
            WHERE i.withdrawn_at IS NULL AND i.contributed_ms >= ?
            GROUP BY i.contributor_id, p.username, p.avatar
            ORDER BY points DESC, first_ms ASC, i.contributor_id ASC
            LIMIT ?
            """, [.int(since), .int(Int64(limit))])
        let tiers = try Contributions(ctx: ctx).tiers(rows.map(\.contributorId), at: nil)
        return RankingView(ranking: rows.enumerated().map { n, row in
            .init(rank: n + 1, userId: row.contributorId, username: row.username, avatar: row.avatar, tier: tiers[row.contributorId]?.id,
                  contributions: row.contributions, points: row.points, lastContribution: row.lastContribution)
        }, timeframe: timeframe)
    }
}
