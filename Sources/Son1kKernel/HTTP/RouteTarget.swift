import Son1kPluginKit

/// What a route leads to: a plugin's handler or one of the kernel's own. A class, built once
/// at boot: a request holds it by one reference instead of copying the spec's strings.
public final class RouteTarget: Sendable {
    public enum Handler: Sendable {
        /// A plugin's route, by its index in the manifest. Runs on the plugin thread pool.
        case plugin(LoadedPlugin, Int)
        /// A kernel route that may block (database): runs on the plugin thread pool.
        case kernel(@Sendable (Request) throws -> Response)
        /// A kernel route that never blocks: runs on the request's task directly.
        case inline(@Sendable (Request) throws -> Response)
    }

    package let spec: RouteSpec
    public let handler: Handler

    package init(spec: RouteSpec, handler: Handler) {
        self.spec = spec
        self.handler = handler
    }

    /// The owner named in /openapi.json tags and in metrics.
    public var owner: String {
        if case .plugin(let p, _) = handler { return p.name }
        return "kernel"
    }
}
