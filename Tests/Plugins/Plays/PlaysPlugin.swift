// The plugin docs/PLUGINS.md shows as "a plugin in 40 lines", verbatim: the tests build and
// load it, so the documented example cannot drift from what compiles and works.
import Son1kPluginKit

/// Counts plays of songs, at most a configured number per user per song.
struct PlaysPlugin: Plugin {
    static let manifest = Manifest(name: "plays", version: "1.0.0", description: "Counts plays.")

    struct Config: PluginConfig {
        var maxPerUser = 100
        static let constraints: [ConfigConstraint] = [.range("max_per_user", 1...10_000)]
    }

    static let migrations: [Migration] = [
        .init(1, "CREATE TABLE plays_counts (song_id TEXT NOT NULL, user_id TEXT NOT NULL, plays INTEGER NOT NULL, PRIMARY KEY (song_id, user_id))")
    ]

    struct Play: Decodable { var plays: Int }

    func register(_ r: inout Registry<Config>) {
        r.post("/api/plays/{id}", auth: .user, summary: "Count one play", returns: NoContent.self) { req, ctx in
            let user = try req.requirePrincipal().id
            try ctx.db.transaction { tx in
                let current = try tx.queryOne(Play.self, "SELECT plays FROM plays_counts WHERE song_id = ? AND user_id = ?",
                                              [.text(req.param("id")), .text(user)])?.plays ?? 0
                guard current < ctx.config.maxPerUser else {
                    throw PluginError(status: 429, code: "play_limit", detail: "You played this song \(current) times.")
                }
                try tx.exec("INSERT INTO plays_counts VALUES (?, ?, 1) ON CONFLICT (song_id, user_id) DO UPDATE SET plays = plays_counts.plays + 1",
                            [.text(req.param("id")), .text(user)])
                try ctx.publishAction(.counted, Counted(songId: req.param("id")), userID: user, in: tx)
            }
            return NoContent()
        }
    }
}

struct Counted: Codable, Sendable { var songId: String }
extension Topic where Payload == Counted { static let counted = Topic("plays.counted") }

@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(PlaysPlugin.self) }
