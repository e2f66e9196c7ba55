import Foundation
import Son1kMusicEngine
import Son1kPluginKit

extension GenerationPlugin {
    /// The routes front ends use: submit, follow, list, cancel, download.
    func registerUserRoutes(_ r: inout Registry<Config>) {
        r.post("/api/generations", auth: .user, summary: "Generate a song from a prompt",
               description: """
                   Validates the request (422 names the field), publishes the hook `generation.before_create` (a subscriber \
                   such as tiers may veto: its status and code become the response, or set `priority`), stores the job and \
                   answers 202 with it. Progress arrives as `generation.progress` events on /api/events/ws, then \
                   `generation.completed` (or `failed`, `timeout`, `cancelled`). A missing `seed` is drawn and recorded, so \
                   the same request with that seed reproduces the song byte for byte.
                   """,
               body: JobRequest.self, returns: GenerationView.self, status: 202) { req, input, ctx -> Reply<GenerationView> in
            let user = try req.requirePrincipal()
            let view = try submit(input, by: user, ctx)
            return Reply(view, headers: [("Location", "/api/generations/\(view.id)")])
        }

        registerOriginalClientRoutes(&r)

        r.get("/api/generations/{id}", auth: .user, summary: "A generation: status, progress, result and audio link",
              description: "Its owner or an admin; anyone else gets 404.", returns: GenerationView.self) { req, ctx in
            let user = try req.requirePrincipal()
            let generations = Generations(ctx: ctx)
            return try generations.view(generations.visible(req.param("id"), to: user), isAdmin: user.isAdmin)
        }

        r.get("/api/generations", auth: .user, summary: "My generations, newest first",
              description: "Query: `status` (queued, assigned, processing, completed, failed, timeout, cancelled), `limit` (1–100, default 20), `cursor` (the previous page's `next_cursor`).",
              returns: GenerationPage.self) { req, ctx in
            let user = try req.requirePrincipal()
            let status = try req.query("status").map { raw -> JobStatus in
                guard let s = JobStatus(rawValue: raw) else {
                    throw PluginError.invalid("status", "must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                return s
            }
            let limit = try req.pageLimit()
            let generations = Generations(ctx: ctx)
            let page = try generations.list(for: user.id, status: status, limit: limit, cursor: req.query("cursor"))
            return GenerationPage(items: try generations.views(page.rows, isAdmin: user.isAdmin), nextCursor: page.next)
        }

        r.post("/api/generations/{id}/cancel", auth: .user, summary: "Cancel a generation that has not finished",
               description: "409 `not_cancellable` once it completed, failed, timed out or was cancelled. A worker rendering it stops at its next report.",
               returns: GenerationView.self) { req, ctx in
            let user = try req.requirePrincipal()
            let generations = Generations(ctx: ctx)
            return try generations.view(generations.cancel(req.param("id"), by: user), isAdmin: user.isAdmin)
        }

        r.delete("/api/generations/{id}", auth: .user, summary: "Delete a finished generation and its audio",
                 description: "409 `still_active` while it is queued or running (cancel it first). Publishes `generation.deleted` with the bytes freed.",
                 returns: NoContent.self) { req, ctx in
            try Generations(ctx: ctx).delete(req.param("id"), by: try req.requirePrincipal())
            return NoContent()
        }

        r.get("/api/generations/{id}/audio", auth: .user, summary: "Download the song (supports Range)",
              description: "The audio of a completed generation, to its owner or an admin. 409 `not_ready` before it completes. `Range: bytes=a-b` answers 206.") { req, ctx in
            let user = try req.requirePrincipal()
            let row = try Generations(ctx: ctx).visible(req.param("id"), to: user)
            guard row.status == .completed, let blobID = row.audioBlobId else {
                throw PluginError.conflict("The generation is \(row.status.rawValue); its audio exists once it completes.", code: "not_ready")
            }
            let (info, bytes) = try ctx.blobs.get(blobID)
            let ext = info.contentType.contains("wav") ? "wav" : "audio"
            return try .ranged(bytes, contentType: info.contentType, range: req.headers["range"], headers: [
                ("ETag", "\"\(info.sha256)\""), ("Content-Disposition", "inline; filename=\"\(row.id).\(ext)\""),
                ("Cache-Control", "private, max-age=3600"),
            ])
        }
    }

    /// A submission as every route that takes one treats it: the owner, lyrics from a draft,
    /// validation, the job, and a wake-up for external workers.
    func submit(_ input: JobRequest, by user: Principal, _ ctx: Context<Config>) throws -> GenerationView {
        let owner = try input.owner(user)
        var request = input
        try LyricsLink.complete(&request, user: owner, ctx: ctx)
        let generations = Generations(ctx: ctx)
        let row = try generations.create(try request.validated(), for: owner)
        signal.notify()  // external workers' long polls
        return try generations.view(row, isAdmin: user.isAdmin)
    }
}
