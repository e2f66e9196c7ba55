/// A son1k plugin written in Swift.
///
/// Declare the manifest and the configuration, register handlers, and export the type
/// from the one C symbol the kernel looks for (the plugin of docs/PLUGINS.md, compiled and
/// loaded by the tests):
///
/// ```swift
/// import Son1kPluginKit
///
/// /// Counts plays of songs, at most a configured number per user per song.
/// struct PlaysPlugin: Plugin {
///     static let manifest = Manifest(name: "plays", version: "1.0.0", description: "Counts plays.")
///
///     struct Config: PluginConfig {
///         var maxPerUser = 100
///         static let constraints: [ConfigConstraint] = [.range("max_per_user", 1...10_000)]
///     }
///
///     static let migrations: [Migration] = [
///         .init(1, "CREATE TABLE plays_counts (song_id TEXT NOT NULL, user_id TEXT NOT NULL, plays INTEGER NOT NULL, PRIMARY KEY (song_id, user_id))")
///     ]
///
///     struct Play: Decodable { var plays: Int }
///
///     func register(_ r: inout Registry<Config>) {
///         r.post("/api/plays/{id}", auth: .user, summary: "Count one play", returns: NoContent.self) { req, ctx in
///             let user = try req.requirePrincipal().id
///             try ctx.db.transaction { tx in
///                 let current = try tx.queryOne(Play.self, "SELECT plays FROM plays_counts WHERE song_id = ? AND user_id = ?",
///                                               [.text(req.param("id")), .text(user)])?.plays ?? 0
///                 guard current < ctx.config.maxPerUser else {
///                     throw PluginError(status: 429, code: "play_limit", detail: "You played this song \(current) times.")
///                 }
///                 try tx.exec("INSERT INTO plays_counts VALUES (?, ?, 1) ON CONFLICT (song_id, user_id) DO UPDATE SET plays = plays_counts.plays + 1",
///                             [.text(req.param("id")), .text(user)])
///                 try ctx.publishAction(.counted, Counted(songId: req.param("id")), userID: user, in: tx)
///             }
///             return NoContent()
///         }
///     }
/// }
///
/// struct Counted: Codable, Sendable { var songId: String }
/// extension Topic where Payload == Counted { static let counted = Topic("plays.counted") }
///
/// @_cdecl("son1k_plugin_entry")
/// public func son1kPluginEntry() -> UnsafeRawPointer { export(PlaysPlugin.self) }
/// ```
///
/// Lifecycle: `init()` and `register` run when the kernel loads the library (to read the
/// manifest); `setUp` when the kernel initialises it with its validated config (throwing
/// disables the plugin with the error as the reason); `start` once every plugin is
/// initialised and migrations ran; `drain` when a graceful shutdown begins (SIGTERM), while
/// requests still arrive; `stop` at the end of it.
public protocol Plugin: Sendable {
    associatedtype Config: PluginConfig = NoConfig

    static var manifest: Manifest { get }
    /// Ordered schema changes; tables must start with the plugin's name and `_`.
    static var migrations: [Migration] { get }

    init()
    func register(_ r: inout Registry<Config>)
    func setUp(_ ctx: Context<Config>) throws
    func start(_ ctx: Context<Config>) throws
    /// A graceful shutdown began: stop taking background work and hand back what is running
    /// (a polling loop of your own; the kernel's job workers are stopped by the kernel), so another
    /// instance or the next start picks it up. Called once, before `stop`, on a kernel
    /// thread; routes, events and service calls may still arrive until `stop`. Return within
    /// a few seconds: the kernel's drain deadline (`shutdown_drain_s`) bounds the whole shutdown.
    ///
    /// ```swift
    /// public func drain() {
    ///     runtime.poller.withLock { $0 }?.stop()
    /// }
    /// ```
    func drain()
    /// The last call: release what `start` acquired. No context call may follow it.
    func stop()
}

/// What a plugin that declares none of these gets: no tables, nothing to set up, start,
/// drain or stop.
extension Plugin {
    /// None.
    public static var migrations: [Migration] { [] }
    /// Nothing to check or prepare.
    public func setUp(_ ctx: Context<Config>) throws {}
    /// Nothing to start.
    public func start(_ ctx: Context<Config>) throws {}
    /// No background work to hand back.
    public func drain() {}
    /// Nothing to release.
    public func stop() {}
}
