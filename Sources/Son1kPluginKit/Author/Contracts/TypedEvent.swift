/// An event whose payload arrived as its topic's type.
public struct TypedEvent<Payload: Codable & Sendable>: Sendable {
    /// Stable across redeliveries: use it to keep an effect idempotent.
    public var id: String
    /// The topic's name.
    public var topic: String
    /// When it was published, ISO 8601 with milliseconds.
    public var occurredAt: String
    /// The user it concerns, when the publisher named one (it then streams to their WebSocket).
    public var userID: String?
    /// The payload, decoded as the topic's type.
    public var payload: Payload
}
