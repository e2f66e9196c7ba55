import Son1kPluginKit

/// What a route leads to: a plugin's handler or one of the kernel's own.
public struct RouteTarget: Sendable {
    public enum Handler: Sendable {
        /// A plugin's route, by its index in the manifest. Runs on the plugin thread pool.
        case plugin(LoadedPlugin, Int)
        /// A kernel route that may block (database): runs on the plugin thread pool.
        case kernel(@Sendable (Request) throws -> Response)
        /// A kernel route that never blocks: runs on the request's task directly.
        case inline(@Sendable (Request) throws -> Response)
    }

    public var spec: RouteSpec
    public var handler: Handler

    /// The owner named in /openapi.json tags and in metrics.
    public var owner: String {
        if case .plugin(let p, _) = handler { return p.name }
        return "kernel"
    }
}
