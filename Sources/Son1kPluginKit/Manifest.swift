/// Who may call a route.
///
/// - `public`: anyone, no credentials.
/// - `user`: a signed-in user (or an admin).
/// - `worker`: a worker API token (or an admin).
/// - `admin`: an admin only.
///
/// Independently of the level, a route whose path contains `{user_id}` serves only the
/// user named there, or an admin.
public enum AuthLevel: String, Codable, Sendable, CaseIterable {
    case `public`, user, worker, admin
}

/// A plugin another plugin needs. Written as a string literal for a required dependency.
public struct Requirement: Codable, Sendable, Hashable, ExpressibleByStringLiteral {
    public var name: String
    /// An optional requirement only orders loading; a missing one does not disable the plugin.
    public var optional: Bool

    public init(_ name: String, optional: Bool = false) {
        self.name = name
        self.optional = optional
    }
    public init(stringLiteral value: String) { self.init(value) }

    public static func optional(_ name: String) -> Requirement { .init(name, optional: true) }
}

/// One HTTP route as the manifest declares it.
public struct RouteSpec: Codable, Sendable, Hashable {
    public var method: String
    /// The path with `{name}` parameters, e.g. `/api/plays/{id}`.
    public var path: String
    public var auth: AuthLevel
    public var summary: String
    public var description: String?
    /// JSON Schema of the request body, shown in /openapi.json.
    public var requestSchema: JSONValue?
    /// JSON Schema of the success response body, shown in /openapi.json.
    public var responseSchema: JSONValue?
    /// The success status documented in /openapi.json (200 unless said otherwise).
    public var successStatus: Int?
    /// The largest request body this route accepts, when it differs from the kernel's
    /// `max_body_bytes` (e.g. an audio upload); larger bodies get 413 before the plugin runs.
    public var maxBodyBytes: Int?
    /// The handler may spend most of its time waiting (a long poll, a batch it waits to join,
    /// a slow upstream): the kernel runs it on a thread of its own, so waiting handlers never
    /// hold the threads that serve every other request.
    public var mayWait: Bool
    /// The handler streams its response (`req.startStream`): the kernel sends the head and
    /// each chunk as the handler writes them, and gives it a thread of its own.
    public var stream: Bool
    /// The success answer's media type when it is not JSON (`audio/wav`, `application/x-ndjson`).
    public var responseContentType: String?
    /// Besides its success answer, the route may answer 204 with no body (a long poll that
    /// found nothing).
    public var mayAnswerEmpty: Bool

    public init(method: String, path: String, auth: AuthLevel, summary: String, description: String? = nil,
                requestSchema: JSONValue? = nil, responseSchema: JSONValue? = nil, successStatus: Int? = nil, maxBodyBytes: Int? = nil,
                mayWait: Bool = false, stream: Bool = false, responseContentType: String? = nil, mayAnswerEmpty: Bool = false) {
        self.method = method.uppercased()
        self.path = path
        self.auth = auth
        self.summary = summary
        self.description = description
        self.requestSchema = requestSchema
        self.responseSchema = responseSchema
        self.successStatus = successStatus
        self.maxBodyBytes = maxBodyBytes
        self.mayWait = mayWait
        self.stream = stream
        self.responseContentType = responseContentType
        self.mayAnswerEmpty = mayAnswerEmpty
    }

    enum CodingKeys: String, CodingKey {
        case method, path, auth, summary, description
        case requestSchema = "request_schema", responseSchema = "response_schema", successStatus = "success_status"
        case maxBodyBytes = "max_body_bytes", mayWait = "may_wait", stream, responseContentType = "response_content_type"
        case mayAnswerEmpty = "may_answer_empty"
    }

    /// Hand-written manifests (plugins in C) may leave out everything but method, path and auth.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(method: try c.decode(String.self, forKey: .method), path: try c.decode(String.self, forKey: .path),
                  auth: try c.decode(AuthLevel.self, forKey: .auth), summary: try c.decodeIfPresent(String.self, forKey: .summary) ?? "",
                  description: try c.decodeIfPresent(String.self, forKey: .description),
                  requestSchema: try c.decodeIfPresent(JSONValue.self, forKey: .requestSchema),
                  responseSchema: try c.decodeIfPresent(JSONValue.self, forKey: .responseSchema),
                  successStatus: try c.decodeIfPresent(Int.self, forKey: .successStatus),
                  maxBodyBytes: try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes),
                  mayWait: try c.decodeIfPresent(Bool.self, forKey: .mayWait) ?? false,
                  stream: try c.decodeIfPresent(Bool.self, forKey: .stream) ?? false,
                  responseContentType: try c.decodeIfPresent(String.self, forKey: .responseContentType),
                  mayAnswerEmpty: try c.decodeIfPresent(Bool.self, forKey: .mayAnswerEmpty) ?? false)
    }
}

/// The two kinds of event on the bus.
public enum EventKind: String, Codable, Sendable {
    /// Synchronous, inside the publisher's transaction; subscribers may modify or veto.
    case hook
    /// Durable, delivered after commit at least once to every subscriber.
    case action
}

/// A subscription to one topic.
public struct SubscriptionSpec: Codable, Sendable, Hashable {
    public var topic: String
    public var kind: EventKind
    /// Lower runs first among hook subscribers not ordered by `before`/`after`.
    public var priority: Int
    /// Plugins whose hook handler for this topic must run after this one.
    public var before: [String]
    /// Plugins whose hook handler for this topic must run before this one.
    public var after: [String]

    public init(topic: String, kind: EventKind, priority: Int = 0, before: [String] = [], after: [String] = []) {
        self.topic = topic
        self.kind = kind
        self.priority = priority
        self.before = before
        self.after = after
    }

    enum CodingKeys: String, CodingKey { case topic, kind, priority, before, after }

    /// Only `topic` and `kind` are required; ordering fields default to none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(topic: try c.decode(String.self, forKey: .topic), kind: try c.decode(EventKind.self, forKey: .kind),
                  priority: try c.decodeIfPresent(Int.self, forKey: .priority) ?? 0,
                  before: try c.decodeIfPresent([String].self, forKey: .before) ?? [],
                  after: try c.decodeIfPresent([String].self, forKey: .after) ?? [])
    }
}

/// One ordered schema change. Applied once; its checksum is recorded, and editing an
/// applied migration disables the plugin instead of silently diverging.
public struct Migration: Codable, Sendable, Hashable {
    public var version: Int
    public var sql: String

    public init(_ version: Int, _ sql: String) {
        self.version = version
        self.sql = sql
    }
}

/// Everything the kernel learns about a plugin before initialising it.
///
/// The manifest crosses the ABI as JSON; this type is its Swift form. Swift plugins get one
/// built from their ``Plugin`` declaration; a plugin in C writes the JSON by hand.
public struct Manifest: Codable, Sendable {
    public var name: String
    public var version: String
    public var description: String
    public var requires: [Requirement]
    public var configSchema: JSONValue
    public var routes: [RouteSpec]
    public var subscriptions: [SubscriptionSpec]
    public var services: [String]
    public var migrations: [Migration]
    /// Mistakes the SDK found while the plugin registered (a handler registered twice, a
    /// config constraint on a field that does not exist). The kernel refuses a plugin whose
    /// manifest lists any, and names each.
    public var problems: [String]

    public init(name: String, version: String, description: String = "", requires: [Requirement] = []) {
        self.name = name
        self.version = version
        self.description = description
        self.requires = requires
        self.configSchema = ["type": "object", "properties": [:]]
        self.routes = []
        self.subscriptions = []
        self.services = []
        self.migrations = []
        self.problems = []
    }

    enum CodingKeys: String, CodingKey {
        case name, version, description, requires, routes, subscriptions, services, migrations, problems
        case configSchema = "config_schema"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        requires = try c.decodeIfPresent([Requirement].self, forKey: .requires) ?? []
        configSchema = try c.decodeIfPresent(JSONValue.self, forKey: .configSchema) ?? ["type": "object"]
        routes = try c.decodeIfPresent([RouteSpec].self, forKey: .routes) ?? []
        subscriptions = try c.decodeIfPresent([SubscriptionSpec].self, forKey: .subscriptions) ?? []
        services = try c.decodeIfPresent([String].self, forKey: .services) ?? []
        migrations = try c.decodeIfPresent([Migration].self, forKey: .migrations) ?? []
        problems = try c.decodeIfPresent([String].self, forKey: .problems) ?? []
    }

    /// Why the kernel must refuse this manifest: the problems its SDK listed, plus what a
    /// hand-written (C) manifest can get wrong the same way — a route, a subscription or a
    /// service declared twice. Empty when it is sound.
    package var registrationProblems: [String] {
        var found = problems
        func twice<Key: Hashable>(_ keys: [Key], _ describe: (Key) -> String) {
            var seen = Set<Key>()
            for key in keys where !seen.insert(key).inserted { found.append("\(describe(key)) is registered twice") }
        }
        twice(routes.map { "\($0.method) \($0.path)" }) { "the route \($0)" }
        twice(subscriptions.map { "\($0.kind.rawValue) \($0.topic)" }) { "the \($0.split(separator: " ")[0]) handler for '\($0.split(separator: " ")[1])'" }
        twice(services) { "the service '\($0)'" }
        return found
    }
}

extension Requirement {
    public init(from decoder: any Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            self.init(name)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try c.decode(String.self, forKey: .name), optional: try c.decodeIfPresent(Bool.self, forKey: .optional) ?? false)
    }
}

/// The toolchain identity written into `build_info`. Swift has no stable ABI on Linux, so
/// the kernel refuses a Swift plugin built by a different compiler release.
public enum BuildInfo {
    public static let swiftCompiler: String = {
        #if compiler(>=6.5)
        return "swift-6.5+"
        #elseif compiler(>=6.4)
        return "swift-6.4"
        #elseif compiler(>=6.3)
        return "swift-6.3"
        #elseif compiler(>=6.2)
        return "swift-6.2"
        #else
        return "swift-older"
        #endif
    }()
}
