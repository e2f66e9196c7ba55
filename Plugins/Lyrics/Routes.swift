import Foundation
import Son1kPluginKit

extension LyricsPlugin {
    func registerRoutes(_ r: inout Registry<Config>) {
        r.post("/api/lyrics/generate", auth: .user, summary: "Write lyrics: title and sections",
               description: """
                   Body `{prompt, language?, genre?, mood?, structure?, rhyme_scheme?, syllables_per_line?, seed?}` → \
                   `{title, language, sections: [{type, lines, rhyme_scheme?}], engine, model?, tokens?, duration_ms, seed}`. \
                   With `Accept: application/x-ndjson` or `?stream=true` the answer streams as NDJSON: a \
                   `{"event": "section", "index", "section"}` line per section as it is written, then `{"event": "done", …}` \
                   with the whole answer, or `{"event": "error", "status", "code", "detail"}`. Missing language, genre and mood \
                   come from the prompt's analysis. The hook `lyrics.before_generate` may veto.
                   """, request: Schemas.generate, response: Schemas.lyrics, mayWait: true, stream: true) { req, ctx in
            let user = try req.requirePrincipal().id
            let body = try req.decode(LyricsRequest.self)
            let writer = Writer(ctx: ctx)
            let spec = try body.validated(analysis: writer.analyze(body.prompt, offlineOnly: true).analysis)
            try ctx.publishHook("lyrics.before_generate", [
                "prompt": .string(spec.prompt), "language": .string(spec.language), "engines": .array(ctx.config.engines.map { .string($0) }),
            ] as JSONValue, userID: user)
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
                    try open().write(json: ["event": "section", "index": .number(Double(index)), "section": section.json])
                    index += 1
                }
                var done = Self.answer(result, spec: spec, since: started)
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
               description: "Body `{prompt}`. Offline heuristics, refined by Ollama when it is configured; `engine` says which answered.",
               request: Schemas.prompt, response: Schemas.analysis, mayWait: true) { req, ctx in
            struct Body: Decodable { var prompt: String }
            let prompt = try req.decode(Body.self).prompt
            guard (1...2000).contains(prompt.count) else { throw PluginError.invalid("prompt", "must be 1 to 2000 characters.") }
            let (analysis, engine) = Writer(ctx: ctx).analyze(prompt)
            var out = analysis.json
            out["engine"] = .string(engine)
            return try .json(out)
        }

        r.post("/api/lyrics/translate", auth: .user, summary: "Translate sections, keeping their shape (needs Ollama)",
               description: "Body `{sections, to}` → `{language, sections, engine, model}`. Without Ollama: 501 `translation_needs_llm`.",
               request: Schemas.translate, mayWait: true) { req, ctx in
            let body = try req.json
            guard let to = body["to"].string?.lowercased(), to.count == 2, to.allSatisfy(\.isLetter) else {
                throw PluginError.invalid("to", "must be an ISO 639-1 code such as es or en.")
            }
            let sections = try Section.list(body["sections"])
            guard ctx.config.engines.contains(OllamaEngine.name), OllamaClient(ctx: ctx).isConfigured else {
                throw PluginError(status: 501, code: "translation_needs_llm",
                                  detail: "Translating lyrics needs a language model: set OLLAMA_URL (the lyrics plugin's ollama_url). The offline engine does not translate.")
            }
            let (translated, model) = try OllamaEngine(ctx: ctx).translate(sections, to: to)
            return try .json(["language": .string(to), "sections": .array(translated.map(\.json)), "engine": "ollama", "model": .string(model)] as JSONValue)
        }

        r.post("/api/lyrics/drafts", auth: .user, summary: "Save a draft (version 1)",
               description: "Body `{title, sections, language?}` → 201 with the draft.", request: Schemas.draft, response: Schemas.draftView,
               status: 201) { req, ctx in
            let body = try req.json
            guard let title = body["title"].string else { throw PluginError.invalid("title", "is required.") }
            let draft = try Drafts(ctx: ctx).create(for: try req.requirePrincipal().id, title: title, sections: try Section.list(body["sections"]),
                                                    language: body["language"].string)
            return try .json(draft, status: 201)
        }

        r.get("/api/lyrics/drafts", auth: .user, summary: "My drafts, newest first",
              description: "Query: `limit` (1–100, default 20), `cursor`.") { req, ctx in
            let limit = try req.pageLimit()
            return try .json(try Drafts(ctx: ctx).list(for: try req.requirePrincipal().id, limit: limit, cursor: req.query("cursor")))
        }

        r.get("/api/lyrics/drafts/{id}", auth: .user, summary: "One of my drafts", response: Schemas.draftView) { req, ctx in
            try .json(try Drafts(ctx: ctx).get(req.param("id"), for: try req.requirePrincipal().id))
        }

        r.patch("/api/lyrics/drafts/{id}", auth: .user, summary: "Change a draft: a new version",
                description: "Body `{title?, sections?}`; the previous version stays in /versions.", request: Schemas.draftChange,
                response: Schemas.draftView) { req, ctx in
            let body = try req.json
            let sections = body["sections"] == .null ? nil : try Section.list(body["sections"])
            if body["title"] != .null, body["title"].string == nil { throw PluginError.invalid("title", "must be a string.") }
            return try .json(try Drafts(ctx: ctx).update(req.param("id"), for: try req.requirePrincipal().id, title: body["title"].string, sections: sections))
        }

        r.delete("/api/lyrics/drafts/{id}", auth: .user, summary: "Delete a draft and its versions", returns: NoContent.self) { req, ctx in
            try Drafts(ctx: ctx).delete(req.param("id"), for: try req.requirePrincipal().id)
            return NoContent()
        }

        r.get("/api/lyrics/drafts/{id}/versions", auth: .user, summary: "Every version of a draft, newest first") { req, ctx in
            try .json(try Drafts(ctx: ctx).versions(req.param("id"), for: try req.requirePrincipal().id))
        }
    }

    static func answer(_ result: Writer.Result, spec: LyricsSpec, since started: Date) -> JSONValue {
        var out = result.lyrics.json(durationMs: Int(Date().timeIntervalSince(started) * 1000))
        // The seed used (drawn when the request had none), so the song can be written again.
        out["seed"] = .number(Double(spec.seed))
        if let (engine, reason) = result.fallback {
            out["fallback"] = ["engine": .string(engine), "code": .string(reason.code), "detail": .string(reason.detail)]
        }
        return out
    }
}
