/// The two kinds of event on the bus.
public enum EventKind: String, Codable, Sendable {
    /// Synchronous, inside the publisher's transaction; subscribers may modify or veto.
    case hook
    /// Durable, delivered after commit at least once to every subscriber.
    case action
}
