import Foundation
import Son1kMusicEngine
import Son1kPluginKit
import Son1kProviderKit

/// The `remote` engine: a provider's HTTP API that turns `{prompt, duration, seed}` into a
/// WAV (the MusicGen-style contract in docs/GENERATION.md), called with an account leased
/// from the stealth plugin (``ProviderCall``). A rate-limited or refused account postpones
/// the job for another account instead of failing it; only the provider's own errors count
/// as failed attempts.
///
/// It runs in the built-in workers only: provider credentials never leave this process.
struct RemoteEngine: GenerationEngine {
    static let engineName = "remote"
    let name = Self.engineName
    let ctx: Context<GenerationPlugin.Config>

    func render(_ job: EngineJob, progress: (Double) -> Bool) throws -> EngineOutput {
        guard progress(0.05) else { throw EngineError.cancelled }
        let response: HTTPClient.Response
        do {
            response = try ProviderCall(ctx: ctx, provider: ctx.config.remoteProvider).post(
                "/generate", body: Self.body(job).bytes, headers: ["Content-Type": "application/json", "Accept": "audio/wav"],
                timeoutS: Double(ctx.config.remoteTimeoutS)) { WAV.parse($0).map { $0.frames > 0 } == true }
        } catch .postponed(let reason, let seconds) {
            throw EngineError.postponed(reason, afterSeconds: seconds)
        } catch .failed(let reason, let retryable) {
            throw EngineError.failed(reason, retryable: retryable)
        }
        guard progress(0.95) else { throw EngineError.cancelled }
        return EngineOutput(audio: response.body, contentType: "audio/wav", details: [
            "engine": .string(name), "provider": .string(ctx.config.remoteProvider),
            "seed": .number(Double(job.seed)), "duration_s": .number(job.durationS),
            "model": response.headers["x-model"].map { .string($0) } ?? .null,
        ])
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
}
