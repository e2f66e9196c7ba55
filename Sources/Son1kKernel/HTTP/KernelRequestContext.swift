import Hummingbird
import NIOCore

/// Hummingbird's per-request context, plus the peer's address (login rate limiting must key
/// on the real client, not on a header the client chooses).
struct KernelRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The connection's remote IP, or "unknown".
    let peer: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
