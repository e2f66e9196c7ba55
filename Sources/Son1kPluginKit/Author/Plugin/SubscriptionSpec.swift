/// A subscription to one topic.
package struct SubscriptionSpec: Codable, Sendable, Hashable {
    package var topic: String
    package var kind: EventKind
    /// Lower runs first among hook subscribers not ordered by `before`/`after`.
    package var priority: Int
    /// Plugins whose hook handler for this topic must run after this one.
    package var before: [String]
    /// Plugins whose hook handler for this topic must run before this one.
    package var after: [String]

    package init(topic: String, kind: EventKind, priority: Int = 0, before: [String] = [], after: [String] = []) {
        self.topic = topic
        self.kind = kind
        self.priority = priority
        self.before = before
        self.after = after
    }

    enum CodingKeys: String, CodingKey { case topic, kind, priority, before, after }

    /// Only `topic` and `kind` are required; ordering fields default to none.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(topic: try c.decode(String.self, forKey: .topic), kind: try c.decode(EventKind.self, forKey: .kind),
                  priority: try c.decodeIfPresent(Int.self, forKey: .priority) ?? 0,
                  before: try c.decodeIfPresent([String].self, forKey: .before) ?? [],
                  after: try c.decodeIfPresent([String].self, forKey: .after) ?? [])
    }
}
