import Foundation
import Logging
import Son1kPluginKit

/// The composition root: opens the database, loads the plugins, builds the router, serves.
///
/// `init` does everything that can fail at start-up (and throws ``BootFailure`` for what
/// must stop the process: an unreadable database, a route conflict, a hook-order cycle);
/// a problem confined to one plugin only disables that plugin. `run` (Kernel+Serving) serves
/// until SIGTERM or SIGINT, then shuts down gracefully (Kernel+Shutdown).
public final class Kernel: Sendable {
    public let config: KernelConfig
    public var settings: KernelSettings { config.settings }
    public let logger: Logger
    public let storage: any Storage
    public let plugins: PluginManager
    public let identity: IdentityStore
    public let metrics: MetricsRegistry
    let transactions: TransactionTable
    let events: EventBus
    /// The job queue every plugin shares, and its reaper.
    let jobs: KernelQueue
    let jobMaintenance: JobMaintenance
    let blobs: BlobStore
    let scheduler: Scheduler
    let egress: EgressClient
    /// Where request handlers, plugin calls and other blocking work run.
    let handlers = HandlerExecutor()
    /// Responses plugins are streaming right now.
    let streams = ResponseStreams()
    let cors: CORSPolicy
    /// Signed, expiring blob URLs for browsers (``MediaURLs``).
    let media: MediaURLs
    /// What users show others: display names, bios, pictures.
    let profiles: UserProfileStore
    let loginLimiter: LoginRateLimiter
    /// Password-reset requests per address and per IP (each request counts, sent or not).
    let resetLimiter: LoginRateLimiter
    /// Account mail, when SMTP is configured (`kernel.mail`).
    let mailer: Mailer?
    /// The one-time tokens of reset and verification links.
    let accountLinks: AccountLinks
    let stream: EventStream
    /// On PostgreSQL: what every instance commits, for this instance's WebSocket clients.
    let outboxTail: OutboxTail?
    /// What plugins read as "now" (a file's instant under SON1K_TEST_CLOCK_FILE, for tests).
    let clock = PluginClock()
    let router: RouteTable<RouteTarget>
    let routes: KernelRoutes

    public init(config: KernelConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        let s = config.settings
        try FileManager.default.createDirectory(atPath: s.dataDirectory, withIntermediateDirectories: true)
        storage = try KernelTools.openStorage(s)
        if let file = PluginClock().file {
            logger.warning("SON1K_TEST_CLOCK_FILE is set: plugins read the time from \(file). This is for tests only.")
        }
        metrics = MetricsRegistry()
        transactions = TransactionTable(storage: storage)
        events = EventBus(storage: storage, transactions: transactions, settings: s, logger: logger, metrics: metrics)
        jobs = KernelQueue(storage: storage, transactions: transactions, events: events, settings: s, logger: logger, metrics: metrics)
        jobMaintenance = JobMaintenance(queue: jobs)
        egress = EgressClient()
        blobs = BlobStore(storage: storage, contents: try BlobStore.contents(for: s, http: egress))
        cors = CORSPolicy(origins: s.corsOrigins)
        stream = EventStream()
        outboxTail = storage.dialect == "postgres" ? OutboxTail(storage: storage, origin: events.origin, logger: logger,
                                                                      wanted: { [stream] in stream.connectionCount > 0 }) { [stream] in stream.publish($0) } : nil
        loginLimiter = LoginRateLimiter(maxPerAccount: s.loginMaxFailuresPerAccount, maxPerIP: s.loginMaxFailuresPerIP,
                                        window: TimeInterval(s.loginWindowSeconds))
        resetLimiter = LoginRateLimiter(maxPerAccount: 3, maxPerIP: s.loginMaxFailuresPerIP, window: TimeInterval(s.loginWindowSeconds))
        mailer = s.mail.map { Mailer(settings: $0, logger: logger) }
        accountLinks = AccountLinks(storage: storage, clock: PluginClock())
        let secret = try Self.jwtSecret(s, storage: storage)
        identity = IdentityStore(storage: storage, jwt: JWTSigner(secret: secret, ttlSeconds: s.tokenTTLSeconds), bcryptCost: s.bcryptCost)
        profiles = UserProfileStore(storage: storage)
        media = MediaURLs(secret: secret, lifetimeSeconds: s.mediaURLTTLSeconds, publicURL: s.publicURL)
        plugins = PluginManager(config: config, logger: logger)
        scheduler = Scheduler(transactions: transactions, logger: logger, queue: handlers.queue) { [events] topic, publisher, data, txn in
            _ = try events.publishAction(topic: topic, userID: nil, data: data, txn: txn, publisher: publisher)
        }

        // Plugins: open, order, check, then initialise. The router is built before init so
        // a conflict stops start-up before any plugin ran code with side effects.
        plugins.open(config: config)
        plugins.resolveLoadOrder()
        let routes = KernelRoutes()
        var router = RouteTable<RouteTarget>()
        for target in routes.all {
            try router.add(method: target.spec.method, path: target.spec.path, owner: "the kernel", target: target)
        }
        do {
            try plugins.mountRoutes(into: &router)
        } catch let conflict as RouteTable<RouteTarget>.Conflict {
            throw BootFailure(description: conflict.description)
        }
        try plugins.resolveHookOrder()
        try plugins.claimServices()
        self.router = router
        self.routes = routes
        routes.bind(self)
        plugins.migrate(storage: storage)
        jobs.configure(plugins: plugins.plugins)
        plugins.initialize(kernel: self)
        events.configure(plugins.subscriptions())
        // The workers plugins asked for in `start` begin once the bus knows every subscriber.
        jobs.startWorkers()
        // This process's actions reach its clients at commit; on PostgreSQL the tail adds the
        // other instances'.
        events.addListener { [stream] in stream.publish($0) }
        logBootReport()
    }

    /// The JWT signing secret: configured, or generated once and kept in the database, so
    /// every instance on it signs and checks tokens alike. A deployment from before kept it in
    /// `<data_dir>/jwt_secret`; that one is carried into the database, and tokens stay valid.
    static func jwtSecret(_ s: KernelSettings, storage: any Storage) throws -> String {
        if !s.jwtSecret.isEmpty { return s.jwtSecret }
        let earlier = FileManager.default.contents(atPath: "\(s.dataDirectory)/jwt_secret")
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        let candidate = earlier.flatMap { $0.isEmpty ? nil : $0 } ?? Crypto.randomToken(48)
        // Instances starting at once each offer one; the first kept is everyone's.
        _ = try storage.execute("INSERT INTO kernel_settings (name, value) VALUES ('jwt_secret', ?) ON CONFLICT (name) DO NOTHING", [.text(candidate)])
        guard let secret = try storage.query("SELECT value FROM kernel_settings WHERE name = 'jwt_secret'", []).first?["value"]?.string else {
            throw BootFailure(description: "cannot keep the generated JWT secret in the database")
        }
        return secret
    }

    /// The first admin, when this start created it: its e-mail, and its password only when
    /// the kernel generated it (to print once). A password the operator gave in
    /// `SON1K_ADMIN_PASSWORD` is never handed back: they know it, and a log keeps it forever.
    public func ensureAdmin() throws -> (email: String, generatedPassword: String?)? {
        guard try !identity.adminExists() else { return nil }
        let generated = settings.adminPassword.isEmpty ? Crypto.randomToken(15) : nil
        let username = "admin"
        _ = try identity.createUser(email: settings.adminEmail, username: username, password: generated ?? settings.adminPassword, role: "admin")
        return (settings.adminEmail, generated)
    }

    /// Resolve an `Authorization` header. Returns the principal, and whether credentials
    /// were presented but proved nothing (expired or forged).
    func authenticate(_ header: String?) throws -> (Principal?, Bool) {
        guard let header else { return (nil, false) }
        guard let token = Self.bearerToken(header) else { return (nil, true) }
        let principal = try identity.principal(bearer: token)
        return (principal, principal == nil)
    }

    /// The token of an `Authorization: Bearer …` value (scheme in any case, blanks around
    /// the token ignored), or nil for another scheme.
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        // Trimmed by hand: Foundation's trimmingCharacters bridges through NSString on Linux,
        // which cost more than the rest of authentication.
        let token = parts[1].drop(while: { $0 == " " || $0 == "\t" })
        return String(token.prefix(upTo: token.lastIndex(where: { $0 != " " && $0 != "\t" }).map(token.index(after:)) ?? token.startIndex))
    }

    private func logBootReport() {
        logger.info("plugin load order: \(plugins.loadOrder.joined(separator: " → "))")
        for (topic, order) in plugins.hookOrder.sorted(by: { $0.key < $1.key }) {
            logger.info("hook order \(topic): \(order.joined(separator: " → "))")
        }
        for p in plugins.plugins {
            if let reason = p.status.reason {
                logger.warning("plugin \(p.name): \(p.status.name) — \(reason)")
            } else {
                logger.info("plugin \(p.name) \(p.manifest?.version ?? ""): \(p.status.name)")
            }
        }
    }
}
