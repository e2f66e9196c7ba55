import ArgumentParser
import Foundation
import Son1kMusicEngine
import Synchronization

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run an external generation worker against a son1k server.",
        discussion: """
            Leases jobs over HTTP (/api/worker/jobs/next, long-poll), renders them with the embedded
            engines, reports progress, sends heartbeats and uploads the audio. Run it on any machine
            that can reach the server; create its token with `son1k tokens create --role worker`.
            Jobs a worker leaves unfinished (killed, network lost) return to the queue once its
            heartbeats stop for the server's heartbeat_timeout_s.

            Environment: SON1K_URL, SON1K_WORKER_TOKEN (instead of --url, --token).
            Example: son1k worker --url http://gpu-host:8080 --token s1k.… --concurrency 2
            """
    )

    @Option(help: "The server's base URL.") var url = ProcessInfo.processInfo.environment["SON1K_URL"] ?? "http://127.0.0.1:8080"
    @Option(help: "A worker (or admin) API token.") var token = ProcessInfo.processInfo.environment["SON1K_WORKER_TOKEN"] ?? ""
    @Option(name: .customLong("id"), help: "This worker's name in the queue (default: host:pid).")
    var workerID = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    @Option(help: "Jobs rendered at once (each on its own thread).") var concurrency = 1
    @Option(help: "Seconds each lease request waits for a job.") var wait = 20.0
    @Option(help: "Path to a General MIDI .sf2 soundfont (default: the first Debian one installed).") var soundfont = ""
    @Option(help: "Exit after completing this many jobs (0: run until stopped).") var maxJobs = 0

    func validate() throws {
        guard !token.isEmpty else { throw ValidationError("Pass --token (or set SON1K_WORKER_TOKEN): a worker token from `son1k tokens create --role worker`.") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 64.") }
        guard URL(string: url)?.scheme != nil else { throw ValidationError("--url must be an absolute URL such as http://127.0.0.1:8080.") }
    }

    func run() async throws {
        guard let font = Engines.soundfont(configured: soundfont) else {
            throw ValidationError("No General MIDI soundfont found; install timgm6mb-soundfont or pass --soundfont.")
        }
        let engines = Dictionary(Engines.builtIn(soundfont: font).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let client = WorkerClient(base: url, token: token, workerID: workerID)
        let state = WorkerState()
        say("son1k worker \(workerID) → \(url), engines: \(engines.keys.sorted().joined(separator: ", ")), concurrency \(concurrency)")

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await heartbeats(client, engines: Array(engines.keys), state: state) }
            for _ in 0..<concurrency {
                group.addTask { try await leaseLoop(client, engines: engines, state: state) }
            }
            // The lease loops end when --max-jobs is reached; then stop the heartbeats too.
            for _ in 0..<concurrency { _ = try await group.next() }
            group.cancelAll()
        }
        say("son1k worker \(workerID): done after \(state.completed) job(s)")
    }

    private func leaseLoop(_ client: WorkerClient, engines: [String: any GenerationEngine], state: WorkerState) async throws {
        while maxJobs == 0 || state.started < maxJobs {
            let lease: WorkerClient.Lease?
            do {
                lease = try await client.next(engines: engines.keys.sorted(), wait: wait)
            } catch let error as WorkerClient.HTTPError where error.status == 401 || error.status == 403 {
                throw ValidationError("The server refused the token: \(error)")
            } catch {
                say("lease failed (\(error)); retrying in 2 s")
                try await Task.sleep(for: .seconds(2))
                continue
            }
            guard let lease, let engine = engines[lease.engine] else { continue }
            state.begin(lease.id)
            await process(lease, engine: engine, client: client, state: state)
            state.end(lease.id)
        }
    }

    /// Renders on a thread of its own (rendering is CPU-bound and synchronous); progress is
    /// posted from here, and a 409 or a heartbeat's `stop` list makes the render stop.
    private func process(_ lease: WorkerClient.Lease, engine: any GenerationEngine, client: WorkerClient, state: WorkerState) async {
        let started = Date()
        let reports = AsyncStream<Double>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let poster = Task {
            for await fraction in reports.stream {
                do { try await client.progress(lease, fraction) } catch { state.abandon(lease.id) }
            }
        }
        let result: Result<EngineOutput, any Error> = await withCheckedContinuation { continuation in
            let thread = Thread {
                var last = -1.0
                continuation.resume(returning: Result {
                    try engine.render(lease.job) { fraction in
                        if fraction - last >= 0.1 { last = fraction; reports.continuation.yield(fraction) }
                        return !state.isAbandoned(lease.id)
                    }
                })
            }
            thread.start()
        }
        reports.continuation.finish()
        await poster.value
        do {
            switch result {
            case .success(let output):
                try await client.complete(lease, output)
                state.complete()
                say(String(format: "%@ completed in %.2f s (%@, %.0f s)", lease.id, Date().timeIntervalSince(started), lease.job.quality.rawValue, lease.job.durationS))
            case .failure(EngineError.cancelled):
                say("\(lease.id) abandoned: cancelled or no longer ours")
            case .failure(EngineError.failed(let message, let retryable)):
                try await client.fail(lease, error: message, retryable: retryable)
                say("\(lease.id) failed: \(message)")
            case .failure(let error):
                try await client.fail(lease, error: "\(error)", retryable: true)
                say("\(lease.id) failed: \(error)")
            }
        } catch {
            say("\(lease.id): could not report the outcome (\(error))")
        }
    }

    private func heartbeats(_ client: WorkerClient, engines: [String], state: WorkerState) async throws {
        var interval = 5.0
        while !Task.isCancelled {
            if let beat = try? await client.heartbeat(engines: engines, holding: state.holding) {
                for id in beat.stop { state.abandon(id) }
                if let i = beat.interval { interval = max(0.2, i) }
            }
            try await Task.sleep(for: .seconds(interval))
        }
    }
}

/// What the worker's tasks share: jobs in hand, jobs to abandon, counts.
final class WorkerState: Sendable {
    private struct Values {
        var holding: Set<String> = []
        var abandoned: Set<String> = []
        var started = 0
        var completed = 0
    }
    private let values = Mutex(Values())

    var holding: [String] { values.withLock { Array($0.holding) } }
    var started: Int { values.withLock { $0.started } }
    var completed: Int { values.withLock { $0.completed } }

    func begin(_ id: String) { values.withLock { $0.holding.insert(id); $0.started += 1 } }
    func end(_ id: String) { values.withLock { $0.holding.remove(id); $0.abandoned.remove(id) } }
    func complete() { values.withLock { $0.completed += 1 } }
    func abandon(_ id: String) { values.withLock { if $0.holding.contains(id) { $0.abandoned.insert(id) } } }
    func isAbandoned(_ id: String) -> Bool { values.withLock { $0.abandoned.contains(id) } }
}
