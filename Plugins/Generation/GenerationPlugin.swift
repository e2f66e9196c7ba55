import Foundation
import Son1kContracts
import Son1kMusicEngine
import Son1kPluginKit
import Synchronization

/// Prompt → song. Users submit generations; the kernel's job queue hands them to workers —
/// the kernel's threads running the embedded engines (`builtin_workers`), or external workers
/// (`son1k worker`, or anything speaking the protocol) on other machines — and records the
/// audio as a blob. See DESIGN §4 "generation" and docs/API.md.
public struct GenerationPlugin: Plugin {
    public init() {}

    public static let manifest = Manifest(
        name: "generation", version: "1.0.0",
        description: "Turns prompts into songs through a durable job queue, built-in and external workers, and the embedded procedural engine.")

    public struct Config: PluginConfig {
        public init() {}

        var builtinWorkers = -1
        var defaultEngine = "procedural"
        var soundfont = ""
        var maxAttempts = 3
        var retryBaseMs = 2000
        var timeoutS = 300
        var heartbeatTimeoutS = 120
        var maxActivePerUser = 10
        var maxWaitS = 30
        /// The stealth provider whose accounts the `remote` engine uses; empty = no remote engine.
        var remoteProvider = ""
        var remoteTimeoutS = 300
        /// Times a job may go back to the queue because no provider account could take it.
        var maxRequeues = 50
        /// Hosts the remote engine may reach: the providers' APIs and their accounts' proxies.
        var egressHosts: [String] = []

        /// How often workers are told to send heartbeats.
        var heartbeatIntervalS: Double { max(0.25, Double(heartbeatTimeoutS) / 4) }

        public static let constraints: [ConfigConstraint] = [
            .range("builtin_workers", -1...256), .describe("builtin_workers", "In-process workers: -1 = one per CPU core, 0 = none (external workers only)."),
            .describe("default_engine", "The engine new jobs ask for."),
            .describe("soundfont", "General MIDI .sf2 for the procedural engine; empty = the first Debian soundfont installed."),
            .range("max_attempts", 1...10), .describe("max_attempts", "Attempts before a job fails for good."),
            .range("retry_base_ms", 0...3_600_000), .describe("retry_base_ms", "Backoff before the 2nd attempt; doubles each attempt."),
            .range("timeout_s", 1...86_400), .describe("timeout_s", "An attempt running longer than this ends the job as `timeout`."),
            .range("heartbeat_timeout_s", 1...86_400), .describe("heartbeat_timeout_s", "A worker silent this long loses its jobs back to the queue."),
            .range("max_active_per_user", 1...10_000), .describe("max_active_per_user", "Queued or running jobs one user may have at once."),
            .range("max_wait_s", 0...120), .describe("max_wait_s", "Longest long-poll of /api/worker/jobs/next."),
            .describe("remote_provider", "Provider (in the stealth plugin) the `remote` engine leases accounts of; empty = no remote engine."),
            .range("remote_timeout_s", 1...3600), .describe("remote_timeout_s", "Longest wait for a provider's answer."),
            .range("max_requeues", 0...10_000), .describe("max_requeues", "Postponements (no account free, rate limited) before a job fails."),
            .describe("egress_hosts", "Hosts the remote engine may call (host or host:port), proxies included."),
        ]
    }

    public static let migrations: [Migration] = [
        .init(1, """
            CREATE TABLE generation_jobs (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                status TEXT NOT NULL,
                priority INTEGER NOT NULL DEFAULT 0,
                engine TEXT NOT NULL,
                request TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                available_at INTEGER NOT NULL,
                worker_id TEXT,
                worker_principal TEXT,
                lease_id TEXT,
                leased_at INTEGER,
                progress REAL NOT NULL DEFAULT 0,
                progress_published REAL NOT NULL DEFAULT 0,
                error TEXT,
                result TEXT,
                audio_blob_id TEXT,
                audio_size INTEGER,
                audio_content_type TEXT,
                created_ms INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                started_at TEXT,
                finished_at TEXT
            )
            """),
        .init(2, "CREATE INDEX generation_jobs_queue ON generation_jobs (status, priority, available_at)"),
        .init(3, "CREATE INDEX generation_jobs_user ON generation_jobs (user_id, created_ms, id)"),
        .init(4, """
            CREATE TABLE generation_workers (
                principal TEXT NOT NULL,
                id TEXT NOT NULL,
                kind TEXT NOT NULL,
                engines TEXT NOT NULL,
                last_seen_ms INTEGER NOT NULL,
                first_seen_at TEXT NOT NULL,
                current_job TEXT,
                completed INTEGER NOT NULL DEFAULT 0,
                failed INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (principal, id)
            )
            """),
        .init(5, "ALTER TABLE generation_jobs ADD COLUMN requeues INTEGER NOT NULL DEFAULT 0"),
        // The queue moved into the kernel: a generation names its kernel job, and its status
        // columns follow that job (Generations.apply).
        .init(6, """
            DROP INDEX generation_jobs_queue;
            ALTER TABLE generation_jobs ADD COLUMN job_id TEXT
            """),
        // One row per user who submits: its row lock orders that user's submissions
        // (Generations.create), and it counts them.
        .init(7, "CREATE TABLE generation_users (user_id TEXT PRIMARY KEY, submitted INTEGER NOT NULL DEFAULT 0)"),
        // The active count a submission checks reads the user's active rows, not all of them.
        .init(8, "CREATE INDEX generation_jobs_active ON generation_jobs (user_id, status)"),
        // Genre and mood names read as others (``StyleNames``), as JSON: what the job reports.
        .init(9, "ALTER TABLE generation_jobs ADD COLUMN mapped TEXT"),
    ]

    /// The engines a job may ask for; each has a queue of its own.
    static let engineNames = ["procedural", RemoteEngine.engineName]

    /// State of this process shared by the routes and the kernel's worker threads: the
    /// engines (built at `start`) and the long-poll wake-ups.
    final class Runtime: Sendable {
        let signal = JobSignal()
        let engines = Mutex<[String: any GenerationEngine]>([:])
    }
    let runtime = Runtime()
    var signal: JobSignal { runtime.signal }

    public func register(_ r: inout Registry<Config>) {
        registerUserRoutes(&r)
        registerWorkerRoutes(&r)
        // The profile's count of songs made (completed ones; deleted ones are gone from it).
        r.onHook(.profileAssemble) { event, ctx in
            var profile = event.payload
            profile.stats["songs_generated"] = try ctx.db.query("SELECT COUNT(*) AS n FROM generation_jobs WHERE user_id = ? AND status = 'completed'",
                                                                [.text(profile.userId)]).first?["n"].int ?? 0
            return .replace(profile)
        }
        // Built-in workers: threads of the kernel's, `builtin_workers` per engine queue.
        r.worker(RenderJob.self, queues: Self.engineNames, concurrency: { $0.builtinWorkers < 0 ? ProcessInfo.processInfo.activeProcessorCount : $0.builtinWorkers }) { [runtime] job, ctx in
            try RenderWorker(ctx: ctx, engines: runtime.engines.withLock { $0 }).run(job)
        }
        r.onJobChange(RenderJob.self) { [runtime] change, ctx in
            try Generations(ctx: ctx).apply(change)
            // Back in the queue: wake the long polls of external workers.
            if change.job.state == .queued { runtime.signal.notify() }
        }
        // For plugins that build on finished songs (the community pool): the stored facts of
        // one generation, so they never take quality or ownership from a client's request.
        r.service(.generationLookup) { input, ctx in
            guard let row = try Generations(ctx: ctx).get(input.generationId) else {
                throw PluginError.notFound("No such generation.", code: "generation_not_found")
            }
            let job = try row.job
            return GenerationFacts(
                generationId: row.id, userId: row.userId, status: row.status.rawValue, quality: SongQuality(job.quality),
                durationS: job.durationS, genre: try row.result.map { try JSONValue.parse(Array($0.utf8)) }?["genre"].string ?? job.genre,
                audioBlobId: row.audioBlobId, size: Int64(row.audioSize ?? 0), contentType: row.audioContentType, finishedAt: row.finishedAt?.iso8601)
        }
    }

    public func setUp(_ ctx: Context<Config>) throws {
        guard ["procedural", RemoteEngine.engineName].contains(ctx.config.defaultEngine) else {
            throw PluginError.invalid("default_engine", "must be procedural or remote.")
        }
        if ctx.config.defaultEngine == RemoteEngine.engineName, ctx.config.remoteProvider.isEmpty {
            throw PluginError.invalid("remote_provider", "must name a stealth provider when default_engine is remote.")
        }
        if ctx.config.builtinWorkers != 0, ctx.config.defaultEngine == "procedural", Engines.soundfont(configured: ctx.config.soundfont) == nil {
            throw PluginError(status: 500, code: "soundfont_missing",
                              detail: ctx.config.soundfont.isEmpty
                                ? "No General MIDI soundfont found; install the Debian package timgm6mb-soundfont or set `soundfont`."
                                : "The soundfont \(ctx.config.soundfont) does not exist.")
        }
    }

    public func start(_ ctx: Context<Config>) throws {
        let count = ctx.config.builtinWorkers < 0 ? ProcessInfo.processInfo.activeProcessorCount : ctx.config.builtinWorkers
        var engines = count > 0 ? Engines.builtIn(soundfont: Engines.soundfont(configured: ctx.config.soundfont) ?? "") : []
        if count > 0, !ctx.config.remoteProvider.isEmpty { engines.append(RemoteEngine(ctx: ctx)) }
        runtime.engines.withLock { $0 = Dictionary(engines.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }) }
        try Generations(ctx: ctx).enqueueStored()
        ctx.log.info("\(count) built-in worker(s) per engine, engines here: \(engines.map(\.name).joined(separator: ", ")); attempt timeout \(ctx.config.timeoutS) s, heartbeat timeout \(ctx.config.heartbeatTimeoutS) s")
    }

    /// Shutting down: long polls answer "no job" now. (The kernel stops its worker threads and
    /// gives their running jobs back to the queue, attempt unspent.)
    public func drain() {
        signal.close()
    }

    public func stop() {
        drain()
    }
}
