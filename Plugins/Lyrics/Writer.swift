import Foundation
import Son1kPluginKit

/// Runs the engines in the configured order: Ollama when it is configured, then the offline
/// engine. A failing engine hands over to the next one only before any section has gone
/// out; the lyrics name the engine that wrote them, and why an earlier one did not.
struct Writer {
    let ctx: Context<LyricsPlugin.Config>

    struct Result {
        var lyrics: Lyrics
        var fallback: (engine: String, reason: PluginError)?
    }

    func write(_ spec: LyricsSpec, streaming: Bool, onSection: (Section) throws -> Void) throws -> Result {
        var delivered = 0
        func emit(_ section: Section) throws {
            try onSection(section)
            delivered += 1
        }
        var skipped: (engine: String, reason: PluginError)?
        for engine in ctx.config.engines {
            switch engine {
            case OllamaEngine.name where OllamaClient(ctx: ctx).isConfigured:
                do {
                    return Result(lyrics: try OllamaEngine(ctx: ctx).write(spec, streaming: streaming, onSection: emit), fallback: nil)
                } catch let error as PluginError where delivered == 0 && engine != ctx.config.engines.last {
                    ctx.log.warning("lyrics: \(error.detail) — trying the next engine")
                    skipped = (engine, error)
                }
            case OfflineEngine.name:
                return Result(lyrics: try OfflineEngine().write(spec, onSection: emit), fallback: skipped)
            default:
                continue
            }
        }
        throw skipped?.reason ?? PluginError(status: 503, code: "no_lyrics_engine",
                                             detail: "No lyrics engine can answer: Ollama is not configured (OLLAMA_URL) and `offline` is not in the engines list.")
    }

    /// The offline analysis, refined by Ollama when it is configured and listed (and
    /// `offlineOnly` is false); `engine` says which answered.
    func analyze(_ prompt: String, offlineOnly: Bool = false) -> (analysis: Analysis, engine: String) {
        let offline = Analyzer.analyze(prompt)
        guard !offlineOnly, ctx.config.engines.contains(OllamaEngine.name), OllamaClient(ctx: ctx).isConfigured else { return (offline, OfflineEngine.name) }
        do {
            return (try OllamaEngine(ctx: ctx).refine(offline, prompt: prompt, genres: Analyzer.genreTempo.keys.sorted(),
                                                      moods: Analyzer.moodTempo.keys.sorted()), OllamaEngine.name)
        } catch {
            ctx.log.warning("lyrics: analysis by Ollama failed (\(error)); offline analysis used")
            return (offline, OfflineEngine.name)
        }
    }
}
