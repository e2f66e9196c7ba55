import Son1kPluginKit

/// The kernel job that renders one generation. Its queue is the engine's (`procedural`,
/// `remote`), so a worker leases only what it can render.
struct RenderJob: JobArgs {
    static let kind = "render"
    var generationId: String
}
