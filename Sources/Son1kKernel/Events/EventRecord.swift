import Son1kPluginKit

/// One published event, as stored in `kernel_events` and delivered to subscribers.
public struct EventRecord: Sendable {
    public var id: String
    public var topic: String
    public var kind: EventKind
    public var publisher: String
    public var userID: String?
    public var occurredAt: String
    public var data: JSONValue

    /// The envelope subscribers receive: `{id, topic, kind, occurred_at, user_id, data}`.
    public var envelope: JSONValue {
        [
            "id": .string(id), "topic": .string(topic), "kind": .string(kind.rawValue),
            "occurred_at": .string(occurredAt), "user_id": userID.map(JSONValue.string) ?? .null, "data": data,
        ]
    }
}
