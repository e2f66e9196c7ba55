import Foundation
import Son1kPluginKit

/// The calls the original Son1kVers3 front ends make, on the same jobs as `/api/generations`:
/// `POST /api/generate` (packages/shared-hooks `useGeneration`) and the create/status pair of
/// apps/the-generator (`Generator.tsx`), which reads the original backend's envelope
/// `{success, data}` with camelCase fields. One difference is intended: every call carries a
/// Bearer token, and a `user_id` in a body must be the caller's.
extension GenerationPlugin {
    func registerOriginalClientRoutes(_ r: inout Registry<Config>) {
        r.post("/api/generate", auth: .user, summary: "Generate a song (the original clients' route)",
               description: """
                   The body of `POST /api/generations` (`{prompt, quality, genre, mood, …}`; a `user_id` must be yours); \
                   answers 202 with the same generation plus `generation_id`. Genre and mood accept display names \
                   (`Hip Hop`) and synonyms; `mapped` says what a name was read as.
                   """,
               body: JobRequest.self, returns: GenerationView.self, status: 202) { req, input, ctx -> Reply<GenerationView> in
            var view = try submit(input, by: try req.requirePrincipal(), ctx)
            view.generationId = view.id
            return Reply(view, headers: [("Location", "/api/generations/\(view.id)")])
        }

        r.post("/api/generation/create", auth: .user, summary: "Generate a song (the-generator's create call)",
               description: """
                   Body `{prompt, quality?, style? (a genre), genre?, mood?, duration?, lyrics?, isInstrumental?, \
                   creativeIntensity?, emotionalDepth?, experimentalLevel?, narrativeStyle?}`: the four sliders must be \
                   numbers from 0 to 1 and do not change what the procedural engine plays. Answers \
                   `{"success": true, "data": {"generationId", "generationTaskId", "status": "PENDING", "message", "mapped"?}}`; \
                   errors are problem+json as everywhere. Follow it at `GET /api/generation/{id}/status`.
                   """,
               request: ["type": "object", "required": ["prompt"]], response: ["type": "object"], status: 200) { req, ctx in
            let body = try req.json
            guard case .object = body else { throw PluginError.invalid("body", "must be a JSON object.") }
            for slider in ["creativeIntensity", "emotionalDepth", "experimentalLevel", "narrativeStyle"] where !body[slider].isNull {
                guard let v = body[slider].double, (0...1).contains(v) else { throw PluginError.invalid(slider, "must be a number from 0 to 1.") }
            }
            func text(_ name: String) throws -> String? {
                guard !body[name].isNull else { return nil }
                guard let s = body[name].string else { throw PluginError.invalid(name, "must be a string.") }
                return s
            }
            guard let prompt = try text("prompt") else { throw PluginError.invalid("prompt", "is required.") }
            if !body["duration"].isNull, body["duration"].double == nil { throw PluginError.invalid("duration", "must be a number of seconds.") }
            if !body["isInstrumental"].isNull, body["isInstrumental"].bool == nil { throw PluginError.invalid("isInstrumental", "must be true or false.") }
            let input = JobRequest(prompt: prompt, genre: try text("genre") ?? text("style"), mood: try text("mood"),
                                   durationS: body["duration"].double, quality: try text("quality"), lyrics: try text("lyrics"),
                                   instrumental: body["isInstrumental"].bool, userId: try text("user_id"))
            let view = try submit(input, by: try req.requirePrincipal(), ctx)
            var data: JSONValue = ["generationId": .string(view.id), "generationTaskId": .string(view.id),
                                   "status": .string(Self.originalStatus(view.status)), "message": "Generation started"]
            if let mapped = view.mapped { data["mapped"] = try JSONValue.from(mapped) }
            return Self.envelope(data)
        }

        r.get("/api/generation/{id}/status", auth: .user, summary: "A generation's status (the-generator's polling call)",
              description: """
                  `{"success": true, "data": {"id", "generationTaskId", "status": PENDING|PROCESSING|COMPLETED|FAILED, \
                  "statusNormalized": running|complete|failed, "running", "audioUrl" (signed, once completed), "tracks" \
                  (one, once completed: `{id, audioUrl, duration, title}`), "prompt", "style", "progress", "createdAt", \
                  "updatedAt"}}`. Its owner or an admin; anyone else gets 404.
                  """, response: ["type": "object"]) { req, ctx in
            let user = try req.requirePrincipal()
            let generations = Generations(ctx: ctx)
            let view = try generations.view(generations.visible(req.param("id"), to: user), isAdmin: user.isAdmin)
            let status = Self.originalStatus(view.status)
            let running = status == "PENDING" || status == "PROCESSING"
            var data: JSONValue = [
                "id": .string(view.id), "generationTaskId": .string(view.id), "status": .string(status),
                "statusNormalized": .string(running ? "running" : status == "COMPLETED" ? "complete" : "failed"),
                "running": .bool(running), "prompt": .string(view.prompt), "style": view.genre.map { .string($0.rawValue) } ?? .null,
                "progress": .number(view.progress), "createdAt": .string(view.createdAt.iso8601), "updatedAt": .string(view.updatedAt.iso8601),
                "audioUrl": .null,
            ]
            if let audio = view.audio, view.status == .completed {
                data["audioUrl"] = .string(audio.url)
                data["tracks"] = [["id": .string(view.id), "audioUrl": .string(audio.url), "duration": .number(view.durationS),
                                   "title": .string(view.prompt)]]
            }
            if let error = view.error { data["error"] = .string(error) }
            return Self.envelope(data)
        }
    }

    /// The original backend's status words.
    static func originalStatus(_ status: JobStatus) -> String {
        switch status {
        case .queued: "PENDING"
        case .assigned, .processing: "PROCESSING"
        case .completed: "COMPLETED"
        case .failed, .timeout, .cancelled: "FAILED"
        }
    }

    /// `{"success": true, "data": …}`, its keys exactly as given (the original's camelCase).
    static func envelope(_ data: JSONValue) -> Response {
        Response(status: 200, headers: [("Content-Type", "application/json")], body: Array((["success": true, "data": data] as JSONValue).jsonString.utf8))
    }
}
