import Foundation

/// How `egress_hosts` entries name hosts, shared by the kernel (which enforces them) and by
/// plugins (which check at start-up that their configured upstream is allowed).
public enum EgressHost {
    /// `host` or `host:port` of a URL.
    public static func of(_ url: URL) -> String? {
        guard let host = url.host, !host.isEmpty else { return nil }
        return url.port.map { "\(host):\($0)" } ?? host
    }

    /// An `egress_hosts` entry as the host it allows: `host`, `host:port`, or a URL's host and
    /// port (so one variable can name a service's URL and allow it). Empty allows nothing.
    public static func entry(_ text: String) -> String? {
        guard !text.isEmpty else { return nil }
        guard text.contains("://") else { return text }
        return URL(string: text).flatMap(of)
    }

    /// Whether `url`'s host (with or without its port) is among `entries`.
    public static func allows(_ url: URL, entries: [String]) -> Bool {
        let allowed = entries.compactMap(entry)
        guard let hostPort = of(url), let host = url.host else { return false }
        return allowed.contains(hostPort) || allowed.contains(host)
    }
}
