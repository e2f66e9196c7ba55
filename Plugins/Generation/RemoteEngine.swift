import Foundation
import Son1kMusicEngine
import Son1kPluginKit

/// The `remote` engine: a provider's HTTP API that turns `{prompt, duration, seed}` into a
/// WAV (the MusicGen-style contract in docs/GENERATION.md), called with an account leased
/// from the stealth plugin and the outcome reported back to it. A rate-limited or refused
/// account postpones the job for another account instead of failing it; only the provider's
/// own errors count as failed attempts.
///
/// It runs in the built-in workers only: provider credentials never leave this process.
struct RemoteEngine: GenerationEngine {
    static let engineName = "remote"
    let name = Self.engineName
    let ctx: Context<GenerationPlugin.Config>

    /// How long a job waits when every account rests: the time the first returns, within bounds.
    static let maxWaitS = 300.0

    func render(_ job: EngineJob, progress: (Double) -> Bool) throws -> EngineOutput {
        let provider = ctx.config.remoteProvider
        let lease: JSONValue
        do {
            lease = try ctx.call("stealth.acquire", ["provider": .string(provider)] as JSONValue)
        } catch let error as PluginError where error.code == "service_unavailable" {
            throw EngineError.failed("The remote engine needs the stealth plugin (\(error.detail)).", retryable: false)
        }
        guard lease["available"] == true, let leaseID = lease["lease_id"].string else {
            let when = lease["next_available_at"].string.map { " until \($0)" } ?? ""
            throw EngineError.postponed("No \(provider) account is free\(when) (\(lease["reason"].string ?? "none available")).",
                                        afterSeconds: min(Self.maxWaitS, lease["retry_after_s"].double ?? Self.maxWaitS))
        }
        guard let base = lease["base_url"].string else {
            try report(leaseID, "error", status: nil, excerpt: "no base_url configured")
            throw EngineError.failed("Neither provider \(provider) nor its account has a base_url.", retryable: false)
        }
        guard progress(0.05) else { throw EngineError.cancelled }

        var headers = (lease["headers"].object ?? [:]).compactMapValues(\.string)
        headers["Content-Type"] = "application/json"
        headers["Accept"] = "audio/wav"
        let response: HTTPClient.Response
        do {
            response = try ctx.http.fetch(.init(
                method: "POST", url: base.trimmingTrailingSlashes + "/generate", headers: headers, body: Self.body(job).bytes,
                timeoutSeconds: Double(ctx.config.remoteTimeoutS), proxy: lease["proxy"].string))
        } catch let error as PluginError {
            if error.code == "egress_denied" || error.code == "invalid_url" || error.code == "invalid_proxy" {
                try report(leaseID, "ok", status: nil, excerpt: nil)
                throw EngineError.failed("\(error.detail) (the generation plugin's egress_hosts)", retryable: false)
            }
            try report(leaseID, "error", status: nil, excerpt: error.detail)
            throw EngineError.failed("Provider \(provider) unreachable: \(error.detail)")
        }

        switch response.status {
        case 200..<300 where WAV.parse(response.body).map { $0.frames > 0 } == true:
            try report(leaseID, "ok", status: response.status, excerpt: nil)
            guard progress(0.95) else { throw EngineError.cancelled }
            return EngineOutput(audio: response.body, contentType: "audio/wav", details: [
                "engine": .string(name), "provider": .string(provider),
                "seed": .number(Double(job.seed)), "duration_s": .number(job.durationS),
                "model": response.headers["x-model"].map { .string($0) } ?? .null,
            ])
        case 200..<300:
            try report(leaseID, "error", status: response.status, excerpt: "answer is not a WAV file")
            throw EngineError.failed("Provider \(provider) answered without a WAV file.")
        case 401, 403, 429, 503:
            let outcome = [401, 403].contains(response.status) ? "auth_failed" : "rate_limited"
            try report(leaseID, outcome, status: response.status, excerpt: response.text, retryAfter: Self.retryAfter(response.headers["retry-after"]))
            throw EngineError.postponed("A \(provider) account answered HTTP \(response.status); another account will take the job.",
                                        afterSeconds: 0)
        case 400..<500:
            // The job's fault, not the account's (unless the words say "rate limit"): the
            // account answered, so it stays healthy.
            let verdict = try report(leaseID, "ok", status: response.status, excerpt: response.text)
            if verdict["outcome"] == "rate_limited" {
                throw EngineError.postponed("A \(provider) account is rate limited; another account will take the job.", afterSeconds: 0)
            }
            throw EngineError.failed("Provider \(provider) refused the job (HTTP \(response.status)).", retryable: false)
        default:
            let verdict = try report(leaseID, "error", status: response.status, excerpt: response.text)
            if verdict["outcome"] == "rate_limited" {
                throw EngineError.postponed("A \(provider) account is rate limited; another account will take the job.", afterSeconds: 0)
            }
            throw EngineError.failed("Provider \(provider) failed (HTTP \(response.status)).")
        }
    }

    @discardableResult
    private func report(_ lease: String, _ outcome: String, status: Int?, excerpt: String?, retryAfter: Double? = nil) throws -> JSONValue {
        var input: JSONValue = ["lease_id": .string(lease), "outcome": .string(outcome)]
        if let status { input["status_code"] = .number(Double(status)) }
        if let excerpt { input["body_excerpt"] = .string(String(excerpt.prefix(300))) }
        if let retryAfter { input["retry_after_s"] = .number(retryAfter) }
        return try ctx.call("stealth.report", input)
    }

    /// The request body of the provider contract.
    static func body(_ job: EngineJob) -> JSONValue {
        var body: JSONValue = [
            "prompt": .string(job.prompt), "duration": .number(job.durationS), "seed": .number(Double(job.seed)),
            "sample_rate": .number(Double(job.quality.sampleRate)), "channels": .number(Double(job.quality.channels)),
            "instrumental": .bool(job.instrumental), "format": "wav",
        ]
        if let genre = job.genre { body["genre"] = .string(genre) }
        if let mood = job.mood { body["mood"] = .string(mood) }
        if let tempo = job.tempoBpm { body["tempo_bpm"] = .number(Double(tempo)) }
        if let key = job.key { body["key"] = .string(key) }
        if let lyrics = job.lyrics { body["lyrics"] = .string(lyrics) }
        return body
    }

    /// `Retry-After` in seconds, from either of its forms (RFC 9110 §10.2.3).
    static func retryAfter(_ value: String?) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value) { return max(0, seconds) }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return format.date(from: value).map { max(0, $0.timeIntervalSinceNow) }
    }
}

private extension String {
    var trimmingTrailingSlashes: String {
        var s = self
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }
}
