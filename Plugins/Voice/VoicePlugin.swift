import Foundation
import Son1kPluginKit
import Synchronization

/// Voice: profiles made from a reference recording with the speaker's consent, and speech in
/// that voice with emotion — the embedded engine (espeak-ng, pitch matched with Rubber Band)
/// or a remote neural one (an XTTS-style server through a stealth-leased account). See DESIGN
/// §4 "voice" and docs/VOICE.md.
public struct VoicePlugin: Plugin {
    public init() {}

    public static let manifest = Manifest(
        name: "voice", version: "1.0.0",
        description: "Voice profiles with consent, and speech with emotion: espeak-ng matched to the profile's pitch, or a neural XTTS server.",
        requires: [.optional("lyrics"), .optional("stealth")])

    public struct Config: PluginConfig {
        public init() {}

        /// Synthesis threads the kernel runs for this plugin; 0 = none (jobs wait).
        var workers = 1
        var defaultEngine = EmbeddedEngine.engineName
        /// The stealth provider the `remote` engine leases accounts of; empty = no remote engine.
        var remoteProvider = ""
        var remoteTimeoutS = 120
        var maxAttempts = 3
        var retryBaseMs = 2000
        var timeoutS = 300
        var maxRequeues = 50
        var maxActivePerUser = 10
        /// Hosts the remote engine may call: the XTTS servers and their accounts' proxies.
        var egressHosts: [String] = []

        public static let constraints: [ConfigConstraint] = [
            .range("workers", 0...64), .oneOf("default_engine", [EmbeddedEngine.engineName, RemoteEngine.engineName]),
            .describe("remote_provider", "Stealth provider (e.g. xtts) of the remote engine; empty turns it off."),
            .range("remote_timeout_s", 1...3600), .range("max_attempts", 1...10), .range("retry_base_ms", 0...3_600_000),
            .range("timeout_s", 1...86_400), .range("max_requeues", 0...10_000), .range("max_active_per_user", 1...10_000),
            .describe("egress_hosts", "Hosts the remote engine may reach (host, host:port or a URL)."),
        ]

        var engines: [String] { remoteProvider.isEmpty ? [EmbeddedEngine.engineName] : [EmbeddedEngine.engineName, RemoteEngine.engineName] }
    }

    public static let migrations: [Migration] = [
        .init(1, """
            CREATE TABLE voice_profiles (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                name TEXT NOT NULL,
                status TEXT NOT NULL,
                consent_statement TEXT NOT NULL,
                consent_at TEXT NOT NULL,
                reference_blob_id TEXT,
                features TEXT,
                created_ms INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """),
        .init(2, "CREATE INDEX voice_profiles_user ON voice_profiles (user_id, created_ms)"),
        .init(3, """
            CREATE TABLE voice_jobs (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                profile_id TEXT NOT NULL,
                status TEXT NOT NULL,
                engine TEXT NOT NULL,
                request TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                requeues INTEGER NOT NULL DEFAULT 0,
                available_at INTEGER NOT NULL,
                lease_id TEXT,
                leased_at INTEGER,
                progress REAL NOT NULL DEFAULT 0,
                error TEXT,
                audio_blob_id TEXT,
                audio_size INTEGER,
                content_type TEXT,
                output TEXT,
                created_ms INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                finished_at TEXT
            )
            """),
        .init(4, "CREATE INDEX voice_jobs_queue ON voice_jobs (status, available_at)"),
        .init(5, "CREATE INDEX voice_jobs_user ON voice_jobs (user_id, created_ms)"),
        // The queue moved into the kernel: a request names its kernel job; leasing, backoff and
        // time limits are the kernel's, so their columns go.
        .init(6, """
            DROP INDEX voice_jobs_queue;
            ALTER TABLE voice_jobs DROP COLUMN available_at;
            ALTER TABLE voice_jobs DROP COLUMN lease_id;
            ALTER TABLE voice_jobs DROP COLUMN leased_at;
            ALTER TABLE voice_jobs DROP COLUMN requeues;
            ALTER TABLE voice_jobs ADD COLUMN job_id TEXT
            """),
    ]

    /// The engines, built at `start` (the remote one needs the context); read by the workers.
    final class Runtime: Sendable {
        let engines = Mutex<[String: any VoiceEngine]>([:])
    }
    let runtime = Runtime()

    public func register(_ r: inout Registry<Config>) {
        registerRoutes(&r)
        // Synthesis runs on the kernel's job queue, on `workers` threads of the kernel's.
        r.worker(Synthesis.self, concurrency: { $0.workers }) { [runtime] job, ctx in
            try SynthesisWorker(ctx: ctx, engines: runtime.engines.withLock { $0 }).run(job)
        }
        r.onJobChange(Synthesis.self) { change, ctx in try VoiceJobs(ctx: ctx).apply(change) }
    }

    public func setUp(_ ctx: Context<Config>) throws {
        if ctx.config.defaultEngine == RemoteEngine.engineName, ctx.config.remoteProvider.isEmpty {
            throw PluginError.invalid("remote_provider", "must name a stealth provider when default_engine is remote.")
        }
    }

    public func start(_ ctx: Context<Config>) throws {
        var engines: [any VoiceEngine] = [EmbeddedEngine()]
        if !ctx.config.remoteProvider.isEmpty { engines.append(RemoteEngine(ctx: ctx)) }
        runtime.engines.withLock { $0 = Dictionary(engines.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }) }
        try VoiceJobs(ctx: ctx).enqueueStored()
    }
}
