import Foundation

/// An event as a subscriber receives it.
///
/// `id` is stable across redeliveries of an action, so a subscriber can make its effect
/// idempotent (an action is delivered at least once).
public struct Event: Sendable, Decodable {
    public var id: String
    public var topic: String
    public var kind: EventKind
    public var occurredAt: String
    public var userID: String?
    public var data: JSONValue

    package init(id: String, topic: String, kind: EventKind, occurredAt: String, userID: String?, data: JSONValue) {
        self.id = id
        self.topic = topic
        self.kind = kind
        self.occurredAt = occurredAt
        self.userID = userID
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case id, topic, kind, data
        case occurredAt = "occurred_at", userID = "user_id"
    }

    /// Decode `data` into a type (snake_case members).
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try BodyDecoder.decode(T.self, from: data.bytes)
    }
}

/// What a hook handler does with the event.
public enum HookOutcome: Sendable {
    /// Let the event through unchanged.
    case `continue`
    /// Let it through with this payload instead (later subscribers and the publisher see it).
    case replace(JSONValue)
}
