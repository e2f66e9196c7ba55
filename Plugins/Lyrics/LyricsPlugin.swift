import Foundation
import Son1kContracts
import Son1kPluginKit

/// Lyrics: structured songs from Ollama or the embedded offline engine, prompt analysis,
/// translation, and a studio of versioned drafts. See DESIGN §4 "lyrics" and docs/LYRICS.md.
public struct LyricsPlugin: Plugin {
    public init() {}

    public static let manifest = Manifest(
        name: "lyrics", version: "1.0.0",
        description: "Structured lyrics from Ollama or the offline engine, prompt analysis, translation and versioned drafts.")

    public struct Config: PluginConfig {
        public init() {}

        /// Engines in the order they are tried: `ollama` (when `ollama_url` is set), `offline`.
        var engines = ["ollama", "offline"]
        /// Ollama's base URL, e.g. http://127.0.0.1:11434; empty = the Ollama engine is off.
        var ollamaUrl = ""
        /// Model per task: generate, analyze, translate.
        var models = ["generate": "llama3.2", "analyze": "llama3.2", "translate": "llama3.2"]
        /// The longest an Ollama exchange may take, streaming included.
        var timeoutS = 60
        var temperature = 0.8
        /// `num_predict`: the most tokens a model may write.
        var maxTokens = 1024
        /// Hosts this plugin may call: Ollama's (an entry may be its URL).
        var egressHosts: [String] = []

        public static let constraints: [ConfigConstraint] = [
            .describe("engines", "Engines in order of preference: ollama, offline. A failing engine hands over to the next."),
            .describe("ollama_url", "Ollama's base URL; empty turns the Ollama engine off."),
            .describe("models", "Ollama model per task: generate, analyze, translate."),
            .range("timeout_s", 1...600), .range("temperature", 0...2), .range("max_tokens", 16...8192),
            .describe("egress_hosts", "Must allow Ollama's host (host:port, or its URL)."),
        ]

        func model(for task: String) -> String { models[task] ?? models["generate"] ?? "llama3.2" }
    }

    public static let migrations: [Migration] = [
        .init(1, """
            CREATE TABLE lyrics_drafts (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                title TEXT NOT NULL,
                language TEXT,
                sections TEXT NOT NULL,
                version INTEGER NOT NULL,
                created_ms INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )
            """),
        .init(2, "CREATE INDEX lyrics_drafts_user ON lyrics_drafts (user_id, created_ms, id)"),
        .init(3, """
            CREATE TABLE lyrics_draft_versions (
                draft_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                title TEXT NOT NULL,
                sections TEXT NOT NULL,
                created_at TEXT NOT NULL,
                PRIMARY KEY (draft_id, version)
            )
            """),
    ]

    public func setUp(_ ctx: Context<Config>) throws {
        guard !ctx.config.engines.isEmpty, ctx.config.engines.allSatisfy([OllamaEngine.name, OfflineEngine.name].contains) else {
            throw PluginError.invalid("engines", "must list ollama and/or offline.")
        }
        guard !ctx.config.ollamaUrl.isEmpty else { return }
        guard let url = URL(string: ctx.config.ollamaUrl), let host = EgressHost.of(url), ["http", "https"].contains(url.scheme ?? "") else {
            throw PluginError.invalid("ollama_url", "'\(ctx.config.ollamaUrl)' is not an http(s) URL.")
        }
        guard EgressHost.allows(url, entries: ctx.config.egressHosts) else {
            throw PluginError.invalid("egress_hosts", "must allow \(host), the host of ollama_url.")
        }
    }

    public func register(_ r: inout Registry<Config>) {
        registerRoutes(&r)
        // For the generation plugin: genre, mood and tempo for a prompt-only request, from
        // the offline heuristics unless `engine` is "auto" (fast and the same every time).
        r.service(.lyricsAnalyze) { input, ctx in
            let (a, engine) = Writer(ctx: ctx).analyze(input.prompt, offlineOnly: input.engine != "auto")
            return a.contract(engine: engine)
        }
        // A draft as text, for a generation that attaches it; only its owner's.
        r.service(.lyricsDraft) { input, ctx in
            let (title, text) = try Drafts(ctx: ctx).text(input.draftId, for: input.userId)
            return DraftText(draftId: input.draftId, title: title, text: text)
        }
    }
}
