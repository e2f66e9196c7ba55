import Foundation
import Son1kMusicEngine
import Son1kPluginKit

extension GenerationPlugin {
    /// The external worker protocol (worker tokens; admins may call it too). A worker leases
    /// a job, reports progress (which doubles as a heartbeat), and completes it with the
    /// audio or fails it; the lease id it received must accompany every report.
    func registerWorkerRoutes(_ r: inout Registry<Config>) {
        r.post("/api/worker/jobs/next", auth: .worker, summary: "Lease the next job (long-poll)",
               description: "Waits up to `wait_s` (capped by config `max_wait_s`) for a job one of `engines` can run; 200 with the lease, or 204 when none came. Two workers never receive the same job.",
               body: NextJobRequest.self, returns: JobLease?.self, mayWait: true) { req, input, ctx in
            let worker = try identity(req, input.workerId)
            let engines = input.engines ?? [ctx.config.defaultEngine]
            guard (1...16).contains(engines.count) else { throw PluginError.invalid("engines", "must list 1 to 16 engine names.") }
            let wait = min(Double(ctx.config.maxWaitS), max(0, input.waitS ?? 0))
            let generations = Generations(ctx: ctx)
            guard let lease = try signal.poll(until: Date().addingTimeInterval(wait), { try generations.lease(worker: worker, engines: engines) }) else {
                _ = try generations.heartbeat(worker, engines: engines, holding: [])
                return nil
            }
            return lease
        }

        r.post("/api/worker/heartbeat", auth: .worker, summary: "Tell the queue this worker is alive",
               description: "Body `{worker_id, engines?, job_ids?}`. Answers `{stop: [...]}`: the jobs among `job_ids` this worker no longer holds (cancelled, timed out, re-queued), which it should abandon. A worker silent for `heartbeat_timeout_s` loses its jobs back to the queue.",
               body: Heartbeat.self, returns: HeartbeatAnswer.self) { req, input, ctx in
            let stop = try Generations(ctx: ctx).heartbeat(try identity(req, input.workerId), engines: input.engines, holding: input.jobIds ?? [])
            return HeartbeatAnswer(stop: stop, heartbeatIntervalS: ctx.config.heartbeatIntervalS)
        }

        r.post("/api/worker/jobs/{id}/progress", auth: .worker, summary: "Report progress on a leased job",
               description: "Body `{worker_id, lease_id, progress (0–1)}`. 409 `job_cancelled` or `lease_lost` tells the worker to stop.",
               body: ProgressReport.self, returns: ProgressAnswer.self) { req, input, ctx in
            let row = try Generations(ctx: ctx).progress(req.param("id"), lease: input.leaseId, fraction: input.progress, worker: try identity(req, input.workerId))
            return ProgressAnswer(status: row.status, progress: row.progress)
        }

        r.post("/api/worker/jobs/{id}/complete", auth: .worker, summary: "Deliver the audio of a leased job",
               description: """
                   The body is the audio itself (`Content-Type: audio/wav`, or another `audio/*` type), up to 64 MiB. Query: \
                   `worker_id`, `lease_id`. Optional header `Son1k-Details`: base64 of a JSON object describing the result \
                   (recorded with the job). A WAV body must parse (RIFF/WAVE with PCM data), else 422. 409 when the lease is \
                   no longer this worker's.
                   """,
               returns: GenerationView.self, maxBodyBytes: 64 << 20) { req, ctx in
            guard let leaseID = req.query("lease_id"), !leaseID.isEmpty else { throw PluginError.invalid("lease_id", "is required (query).") }
            let worker = try identity(req, req.query("worker_id") ?? "")
            let contentType = (req.headers["content-type"] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard contentType.hasPrefix("audio/") else { throw PluginError.invalid("content-type", "must be an audio type such as audio/wav.") }
            guard !req.body.isEmpty else { throw PluginError.invalid("body", "is empty; send the audio bytes.") }
            var details: JSONValue = [:]
            if let header = req.headers["son1k-details"] {
                guard let data = Data(base64Encoded: header), let parsed = try? JSONValue.parse(Array(data)), parsed.object != nil else {
                    throw PluginError.invalid("son1k-details", "must be base64 of a JSON object.")
                }
                details = parsed
            }
            if ["audio/wav", "audio/x-wav", "audio/wave"].contains(contentType) {
                guard let wav = WAV.parse(req.body) else { throw PluginError.invalid("body", "is not a WAV file (RIFF/WAVE with PCM data).") }
                details["sample_rate"] = .number(Double(wav.sampleRate))
                details["channels"] = .number(Double(wav.channels))
                details["audio_duration_s"] = .number((wav.durationSeconds * 1000).rounded() / 1000)
            }
            let row = try Generations(ctx: ctx).complete(req.param("id"), lease: leaseID, audio: req.body, contentType: contentType,
                                                      details: details, worker: worker)
            return try row.view(isAdmin: true)
        }

        r.post("/api/worker/jobs/{id}/fail", auth: .worker, summary: "Report that a leased job failed",
               description: "Body `{worker_id, lease_id, error, retryable}`. Retryable failures go back to the queue after an exponential backoff until `max_attempts`; then (or when not retryable) the job is `failed` with the error.",
               body: FailureReport.self, returns: GenerationView.self) { req, input, ctx in
            let row = try Generations(ctx: ctx).fail(req.param("id"), lease: input.leaseId, error: input.error, retryable: input.retryable ?? true,
                                     worker: try identity(req, input.workerId))
            if row.status == .queued { signal.notify() }
            return try row.view(isAdmin: true)
        }

        r.get("/api/admin/workers", auth: .admin, summary: "External workers, alive or not",
              description: "Each worker's engines, last heartbeat, current job and completed/failed counts.", returns: WorkerList.self) { _, ctx in
            WorkerList(workers: try WorkerRegistry(ctx: ctx).workers())
        }
    }

    /// The worker as the queue knows it: its chosen id under the credentials it used.
    private func identity(_ req: Request, _ workerID: String) throws -> WorkerIdentity {
        guard (1...100).contains(workerID.count), workerID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }) else {
            throw PluginError.invalid("worker_id", "must be 1 to 100 letters, digits, '-', '_', '.' or ':'.")
        }
        return WorkerIdentity(principal: try req.requirePrincipal().id, id: workerID, kind: "external")
    }
}

/// `POST /api/worker/jobs/next`'s body.
struct NextJobRequest: Codable, Sendable, SchemaRules {
    var workerId: String
    /// The engines this worker runs; default: the deployment's default engine.
    var engines: [String]?
    /// How long to wait for a job, in seconds (capped by `max_wait_s`).
    var waitS: Double?
    static let schemaRules: [FieldRule] = [.pattern("worker_id", WorkerRules.idPattern)]
}
