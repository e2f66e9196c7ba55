import Foundation
import Son1kContracts
import Son1kPluginKit

extension LyricsPlugin {
    func registerRoutes(_ r: inout Registry<Config>) {
        r.post("/api/lyrics/generate", auth: .user, summary: "Write lyrics: title and sections",
               description: """
                   Body `{prompt, language?, genre?, mood?, structure?, rhyme_scheme?, syllables_per_line?, seed?}` → \
                   `{title, language, sections: [{type, lines, rhyme_scheme?}], lyrics, text, engine, model?, tokens?, duration_ms, seed}` (`lyrics` and `text`: the whole song as plain text, `[Verse]` headers, where the original front ends read it). The original clients' `style` and `length` are accepted and not used. \
                   With `Accept: application/x-ndjson` or `?stream=true` the answer streams as NDJSON: a \
                   `{"event": "section", "index", "section"}` line per section as it is written, then `{"event": "done", …}` \
                   with the whole answer, or `{"event": "error", "status", "code", "detail"}`. Missing language, genre and mood \
                   come from the prompt's analysis. The hook `lyrics.before_generate` may veto.
                   """, request: JSONSchema.of(LyricsRequest.self), response: JSONSchema.of(LyricsAnswer.self, for: .response),
               mayWait: true, stream: true) { req, ctx in
            let user = try req.requirePrincipal().id
            let body = try req.decode(LyricsRequest.self)
            let writer = Writer(ctx: ctx)
            let spec = try body.validated(analysis: writer.analyze(body.prompt, offlineOnly: true).analysis)
            try ctx.publishHook(.lyricsBeforeGenerate, LyricsRequested(prompt: spec.prompt, language: spec.language, engines: ctx.config.engines),
                                userID: user)
            let started = Date()
            let streaming = req.query("stream") == "true" || (req.headers["accept"] ?? "").contains("application/x-ndjson")
            guard streaming else {
                let result = try writer.write(spec, streaming: false) { _ in }
                return try .json(Self.answer(result, spec: spec, since: started))
            }
            var out: ResponseStreamWriter?
            func open() throws -> ResponseStreamWriter {
                if let out { return out }
                let opened = try req.startStream(headers: [("Content-Type", "application/x-ndjson"), ("Cache-Control", "no-store")])
                out = opened
                return opened
            }
            do {
                var index = 0
                let result = try writer.write(spec, streaming: true) { section in
                    try open().write(json: ["event": "section", "index": .integer(Int64(index)), "section": section.json])
                    index += 1
                }
                var done = try JSONValueEncoder.encode(Self.answer(result, spec: spec, since: started))
                done["event"] = "done"
                try open().write(json: done)
                return .streamed
            } catch let error as PluginError {
                // Before the first line a failure is an ordinary problem response; after it,
                // the stream's last line says what went wrong.
                guard let out else { throw error }
                try? out.write(json: ["event": "error", "status": .number(Double(error.status)), "code": .string(error.code), "detail": .string(error.detail)])
                return .streamed
            }
        }

        r.post("/api/lyrics/analyze", auth: .user, summary: "What a prompt asks for: language, genre, mood, tempo, keywords, energy",
               description: "Offline heuristics, refined by Ollama when it is configured; `engine` says which answered.",
               body: PromptBody.self, returns: PromptAnalysis.self, mayWait: true) { req, input, ctx in
            guard (1...2000).contains(input.prompt.count) else { throw PluginError.invalid("prompt", "must be 1 to 2000 characters.") }
            let (a, engine) = Writer(ctx: ctx).analyze(input.prompt)
            return a.contract(engine: engine)
        }

        r.post("/api/lyrics/translate", auth: .user, summary: "Translate sections, keeping their shape (needs Ollama)",
               description: "Without Ollama: 501 `translation_needs_llm`.",
               body: TranslationRequest.self, returns: Translation.self, mayWait: true) { req, input, ctx in
            let to = input.to.lowercased()
            guard to.count == 2, to.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw PluginError.invalid("to", "must be an ISO 639-1 code such as es or en.")
            }
            let sections = try Section.checked(input.sections)
            guard ctx.config.engines.contains(OllamaEngine.name), OllamaClient(ctx: ctx).isConfigured else {
                throw PluginError(status: 501, code: "translation_needs_llm",
                                  detail: "Translating lyrics needs a language model: set OLLAMA_URL (the lyrics plugin's ollama_url). The offline engine does not translate.")
            }
            let (translated, model) = try OllamaEngine(ctx: ctx).translate(sections, to: to)
            return Translation(language: to, sections: translated, engine: OllamaEngine.name, model: model)
        }

        r.post("/api/lyrics/drafts", auth: .user, summary: "Save a draft (version 1)",
               body: NewDraft.self, returns: DraftView.self, status: 201) { req, input, ctx in
            try Drafts(ctx: ctx).create(for: try req.requirePrincipal().id, title: input.title, sections: try Section.checked(input.sections),
                                        language: input.language)
        }

        r.get("/api/lyrics/drafts", auth: .user, summary: "My drafts, newest first",
              description: "Query: `limit` (1–100, default 20), `cursor`.", returns: DraftPage.self) { req, ctx in
            try Drafts(ctx: ctx).list(for: try req.requirePrincipal().id, limit: try req.pageLimit(), cursor: req.query("cursor"))
        }

        r.get("/api/lyrics/drafts/{id}", auth: .user, summary: "One of my drafts", returns: DraftView.self) { req, ctx in
            try Drafts(ctx: ctx).get(req.param("id"), for: try req.requirePrincipal().id)
        }

        r.patch("/api/lyrics/drafts/{id}", auth: .user, summary: "Change a draft: a new version",
                description: "The previous version stays in /versions.", body: DraftChange.self, returns: DraftView.self) { req, input, ctx in
            try Drafts(ctx: ctx).update(req.param("id"), for: try req.requirePrincipal().id, title: input.title,
                                        sections: try input.sections.map { try Section.checked($0) })
        }

        r.delete("/api/lyrics/drafts/{id}", auth: .user, summary: "Delete a draft and its versions", returns: NoContent.self) { req, ctx in
            try Drafts(ctx: ctx).delete(req.param("id"), for: try req.requirePrincipal().id)
            return NoContent()
        }

        r.get("/api/lyrics/drafts/{id}/versions", auth: .user, summary: "Every version of a draft, newest first",
              returns: DraftVersions.self) { req, ctx in
            try Drafts(ctx: ctx).versions(req.param("id"), for: try req.requirePrincipal().id)
        }
    }

    static func answer(_ result: Writer.Result, spec: LyricsSpec, since started: Date) -> LyricsAnswer {
        result.lyrics.answer(durationMs: Int(Date().timeIntervalSince(started) * 1000), seed: spec.seed,
                             fallback: result.fallback.map { .init(engine: $0.0, code: $0.1.code, detail: $0.1.detail) })
    }
}
