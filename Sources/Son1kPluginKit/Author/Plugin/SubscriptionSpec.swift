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
    /// Actions only: delivered inside the kernel's delivery transaction, which
    /// records the delivery too. See ``Registry/onAction(_:transactional:_:)``.
    package var transactional: Bool
    /// Transactional actions only: the delivery transaction's level (`"isolation":
    /// "read_committed"` in a manifest; absent means serializable).
    package var isolation: Isolation

    package init(topic: String, kind: EventKind, priority: Int = 0, before: [String] = [], after: [String] = [], transactional: Bool = false,
                 isolation: Isolation = .serializable) {
        self.topic = topic
        self.kind = kind
        self.priority = priority
        self.before = before
        self.after = after
        self.transactional = transactional
        self.isolation = isolation
    }

    enum CodingKeys: String, CodingKey { case topic, kind, priority, before, after, transactional, isolation }

    /// The manifest's spelling of ``isolation``.
    static let readCommittedName = "read_committed"

    /// Only `topic` and `kind` are required; ordering fields default to none, `transactional`
    /// to false (as every plugin built before it expects).
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(topic: try c.decode(String.self, forKey: .topic), kind: try c.decode(EventKind.self, forKey: .kind),
                  priority: try c.decodeIfPresent(Int.self, forKey: .priority) ?? 0,
                  before: try c.decodeIfPresent([String].self, forKey: .before) ?? [],
                  after: try c.decodeIfPresent([String].self, forKey: .after) ?? [],
                  transactional: try c.decodeIfPresent(Bool.self, forKey: .transactional) ?? false,
                  isolation: try Self.isolation(c.decodeIfPresent(String.self, forKey: .isolation), at: c.codingPath + [CodingKeys.isolation]))
    }

    private static func isolation(_ name: String?, at path: [any CodingKey]) throws -> Isolation {
        switch name {
        case nil, "serializable": return .serializable
        case readCommittedName: return .readCommitted
        case let other?:
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "isolation must be \"serializable\" or \"\(readCommittedName)\", not \"\(other)\""))
        }
    }

    /// `transactional` and `isolation` are written only when set, so manifests without them
    /// read as before.
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(topic, forKey: .topic)
        try c.encode(kind, forKey: .kind)
        try c.encode(priority, forKey: .priority)
        try c.encode(before, forKey: .before)
        try c.encode(after, forKey: .after)
        if transactional { try c.encode(true, forKey: .transactional) }
        if isolation == .readCommitted { try c.encode(Self.readCommittedName, forKey: .isolation) }
    }
}
