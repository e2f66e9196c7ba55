import Son1kPluginKit

/// An event the plugin published through the test host.
public struct PublishedEvent: Sendable {
    public var id: String
    public var topic: String
    public var kind: EventKind
    public var userID: String?
    /// The payload as published; read it through its topic with ``TestHost/published(_:)``.
    public var data: JSONValue
}

/// A line the plugin logged.
public struct LogLine: Sendable, Equatable {
    public enum Level: Int32, Sendable { case debug, info, warning, error }
    public var level: Level
    public var message: String
}

/// A metric the plugin recorded.
public struct RecordedMetric: Sendable, Equatable {
    public enum Kind: Int32, Sendable { case counter, gauge, histogram }
    public var kind: Kind
    public var name: String
    public var value: Double
    /// `key=value,key=value`, sorted by key.
    public var labels: String
}

/// A schedule the plugin asked for in `start`.
public struct Schedule: Sendable, Equatable {
    public var topic: String
    public var everySeconds: Int
}

/// A job the plugin enqueued. The test host records jobs and runs none (see
/// ``TestHost/enqueued(_:)``).
public struct EnqueuedJob: Sendable {
    public var id: String
    public var queue: String
    public var kind: String
    /// The arguments as enqueued (snake_case JSON).
    public var args: JSONValue
    public var ownerID: String?
    public var uniqueKey: String?
}
