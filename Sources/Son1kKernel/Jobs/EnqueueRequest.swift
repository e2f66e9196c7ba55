import Son1kPluginKit

/// Reads and checks an `enqueue` request: each mistake is a 4xx problem naming the field,
/// and nothing is written until every field passed.
enum EnqueueRequest {
    static let defaultMaxAttempts = 3
    static let defaultTimeoutMs: Int64 = 300_000
    static let defaultHeartbeatTimeoutMs: Int64 = 120_000
    static let defaultBackoffBaseMs: Int64 = 1000
    static let defaultMaxPostponements = 50

    static func read(_ r: JSONValue, plugin: LoadedPlugin, maxArgsBytes: Int, now: Int64) throws -> NewJob {
        let queue = try string(r, "queue")
        let kind = try string(r, "kind")
        let declared = plugin.manifest?.jobs ?? []
        guard declared.contains(where: { $0.queue == queue }) else {
            let known = Set(declared.map(\.queue)).sorted()
            throw PluginError(status: 400, code: "unknown_queue",
                              detail: "The plugin '\(plugin.name)' declares no queue '\(queue)'\(known.isEmpty ? " (it declares none)" : "; it declares \(known.joined(separator: ", "))").")
        }
        guard declared.contains(where: { $0.queue == queue && $0.kind == kind }) else {
            throw PluginError(status: 400, code: "unknown_job_kind", detail: "The queue '\(queue)' of '\(plugin.name)' takes no jobs of kind '\(kind)'.")
        }
        let args = try Self.args(r["args"], maxBytes: maxArgsBytes)
        var runAt: Int64?
        if let delay = r["delay_s"].double {
            guard delay >= 0, delay.isFinite else { throw invalid("delay_s", "must be 0 or more seconds, not \(delay).") }
            runAt = now + Int64(delay * 1000)
        }
        if let at = r["run_at_ms"].int64 { runAt = at }
        let priority = r["priority"].int ?? 0
        guard (-100...100).contains(priority) else { throw invalid("priority", "must be -100 to 100, not \(priority).") }
        let maxAttempts = r["max_attempts"].int ?? defaultMaxAttempts
        guard (1...100).contains(maxAttempts) else { throw invalid("max_attempts", "must be 1 to 100, not \(maxAttempts).") }
        let maxPostponements = r["max_postponements"].int ?? defaultMaxPostponements
        guard (0...100_000).contains(maxPostponements) else { throw invalid("max_postponements", "must be 0 to 100000.") }
        let timeoutMs = try milliseconds(r, "timeout_s", default: defaultTimeoutMs)
        let heartbeatMs = try milliseconds(r, "heartbeat_timeout_s", default: defaultHeartbeatTimeoutMs)
        let backoff = r["backoff_base_ms"].int64 ?? defaultBackoffBaseMs
        guard (0...86_400_000).contains(backoff) else { throw invalid("backoff_base_ms", "must be 0 to 86400000.") }
        let uniqueKey = r["unique_key"].string
        if let uniqueKey, !(1...200).contains(uniqueKey.utf8.count) { throw invalid("unique_key", "must be 1 to 200 bytes.") }
        let owner = r["owner_id"].string
        let maxActive = r["max_active_per_owner"].int
        if let maxActive {
            guard maxActive >= 1 else { throw invalid("max_active_per_owner", "must be 1 or more.") }
            guard owner != nil else { throw invalid("max_active_per_owner", "needs owner_id: it counts that owner's jobs.") }
        }
        return NewJob(plugin: plugin.name, queue: "\(plugin.name).\(queue)", kind: kind, args: args,
                      ownerID: owner, priority: priority, runAt: runAt, maxAttempts: maxAttempts, maxPostponements: maxPostponements,
                      timeoutMs: timeoutMs, heartbeatTimeoutMs: heartbeatMs, backoffBaseMs: backoff, uniqueKey: uniqueKey,
                      maxActivePerOwner: maxActive)
    }

    /// The most job ids one call (a heartbeat) may name.
    static let maxIDsPerCall = 1000

    /// A job's arguments as stored, within the size limit.
    static func args(_ value: JSONValue, maxBytes: Int) throws -> String {
        let bytes = value.bytes
        guard bytes.count <= maxBytes else {
            throw PluginError(status: 413, code: "job_args_too_large",
                              detail: "The job's arguments are \(bytes.count) bytes; the limit is \(maxBytes). Pass ids, not documents.")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A required, non-empty string field.
    static func string(_ r: JSONValue, _ field: String) throws -> String {
        guard let s = r[field].string, !s.isEmpty else { throw invalid(field, "is required.") }
        return s
    }

    private static func milliseconds(_ r: JSONValue, _ field: String, default value: Int64) throws -> Int64 {
        guard let s = r[field].double else { return value }
        guard s > 0, s <= 7 * 86_400 else { throw invalid(field, "must be more than 0 and at most 7 days, not \(s).") }
        return Int64(s * 1000)
    }

    static func invalid(_ field: String, _ detail: String) -> PluginError {
        PluginError(status: 400, code: "invalid_job_request", detail: "\(field) \(detail)")
    }
}
