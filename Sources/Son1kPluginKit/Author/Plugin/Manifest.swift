
/// Everything the kernel learns about a plugin before initialising it.
///
/// The manifest crosses the ABI as JSON; this type is its Swift form. Swift plugins get one
/// built from their ``Plugin`` declaration; a plugin in C writes the JSON by hand.
public struct Manifest: Codable, Sendable {
    /// The plugin's name: its tables' prefix, its routes' owner, its topics' first word.
    public var name: String
    /// Semantic version, shown by `son1k plugins list`.
    public var version: String
    /// One sentence for operators.
    public var description: String
    /// Plugins that must load first (their services are called, their events consumed).
    public var requires: [Requirement]
    package var configSchema: JSONValue
    package var routes: [RouteSpec]
    package var subscriptions: [SubscriptionSpec]
    package var services: [String]
    package var migrations: [Migration]
    /// The kinds of job the plugin enqueues, per queue, and which the kernel runs workers for.
    package var jobs: [JobSpec]
    /// Mistakes the SDK found while the plugin registered (a handler registered twice, a
    /// config constraint on a field that does not exist). The kernel refuses a plugin whose
    /// manifest lists any, and names each.
    package var problems: [String]

    /// The parts a plugin declares; the SDK fills in the rest from its registrations.
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
        self.jobs = []
        self.problems = []
    }

    enum CodingKeys: String, CodingKey {
        case name, version, description, requires, routes, subscriptions, services, migrations, jobs, problems
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
        jobs = try c.decodeIfPresent([JobSpec].self, forKey: .jobs) ?? []
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
        twice(jobs.map { "\($0.kind) in queue \($0.queue)" }) { "the job kind \($0)" }
        return found
    }
}
