/// A son1k plugin written in Swift.
///
/// Declare the manifest and the configuration, register handlers, and export the type
/// from the one C symbol the kernel looks for:
///
/// ```swift
/// import Son1kPluginKit
///
/// struct PlaysPlugin: Plugin {
///     static let manifest = Manifest(name: "plays", version: "1.0.0", requires: ["generation"])
///     static let migrations: [Migration] = [
///         .init(1, "CREATE TABLE plays_counts (generation_id TEXT PRIMARY KEY, plays INTEGER NOT NULL)")
///     ]
///     func register(_ r: inout Registry<NoConfig>) {
///         r.post("/api/plays/{id}", auth: .user, summary: "Count one play") { req, ctx in
///             try ctx.db.exec("INSERT INTO plays_counts VALUES (?, 1) ON CONFLICT (generation_id) DO UPDATE SET plays = plays_counts.plays + 1", [.text(req.param("id"))])
///             return .noContent
///         }
///     }
/// }
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
    /// (give leased jobs back to their queue without counting the attempt), so another
    /// instance or the next start picks it up. Called once, before `stop`, on a kernel
    /// thread; routes, events and service calls may still arrive until `stop`. Return within
    /// a few seconds: the kernel's drain deadline (`shutdown_drain_s`) bounds the whole shutdown.
    ///
    /// ```swift
    /// func drain() { runtime.workers.withLock { $0 }?.stop() }
    /// ```
    func drain()
    /// The last call: release what `start` acquired. No context call may follow it.
    func stop()
}

extension Plugin {
    public static var migrations: [Migration] { [] }
    public func setUp(_ ctx: Context<Config>) throws {}
    public func start(_ ctx: Context<Config>) throws {}
    public func drain() {}
    public func stop() {}
}
