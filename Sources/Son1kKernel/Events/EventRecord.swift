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

// In an extension, so the memberwise initialiser stays.
extension EventRecord {
    /// The columns an action is read back with (``init(row:)``).
    static let columns = "id, topic, publisher, user_id, occurred_at, data"

    /// An action as a row of `kernel_events` holds it; nil for a row without id or topic.
    init?(row: StorageRow) {
        guard let id = row["id"]?.string, let topic = row["topic"]?.string else { return nil }
        self.init(id: id, topic: topic, kind: .action, publisher: row["publisher"]?.string ?? "", userID: row["user_id"]?.string,
                  occurredAt: row["occurred_at"]?.string ?? "", data: (try? JSONValue.parse(Array((row["data"]?.string ?? "null").utf8))) ?? .null)
    }
}
