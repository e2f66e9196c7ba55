import Foundation

/// An event as the kernel hands it over; subscribers see it as a ``TypedEvent``.
///
/// `id` is stable across redeliveries of an action, so a subscriber can make its effect
/// idempotent (an action is delivered at least once).
package struct Event: Sendable, Decodable {
    package var id: String
    package var topic: String
    package var kind: EventKind
    package var occurredAt: String
    package var userID: String?
    package var data: JSONValue

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

}

/// What a hook handler does with the event.
package enum HookOutcome: Sendable {
    /// Let the event through unchanged.
    case `continue`
    /// Let it through with this payload instead (later subscribers and the publisher see it).
    case replace(JSONValue)
}
