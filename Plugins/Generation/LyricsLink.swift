import Foundation
import Son1kContracts
import Son1kMusicEngine
import Son1kPluginKit

/// What the lyrics plugin adds to a generation request when the deployment runs it: the
/// text of a draft named by `lyrics_draft_id` (its owner's only), and genre, mood and tempo
/// read from a request that gave only a prompt. Without the plugin, a draft id is a 422 and
/// a prompt-only request stays as it is.
enum LyricsLink {
    static func complete(_ request: inout JobRequest, user: String, ctx: Context<GenerationPlugin.Config>) throws {
        if let draft = request.lyricsDraftId {
            guard request.lyrics == nil else { throw PluginError.invalid("lyrics_draft_id", "cannot come with lyrics; send one of the two.") }
            do {
                request.lyrics = try ctx.call(.lyricsDraft, DraftRequest(draftId: draft, userId: user)).text
            } catch let error as PluginError where error.code == "draft_not_found" {
                throw PluginError.invalid("lyrics_draft_id", "you have no draft \(draft).")
            } catch let error as PluginError where error.code == "service_unavailable" {
                throw PluginError.invalid("lyrics_draft_id", "needs the lyrics plugin, which this deployment does not run.")
            }
        }
        guard request.genre == nil, request.mood == nil, request.tempoBpm == nil,
              let analysis = try? ctx.call(.lyricsAnalyze, PromptAnalysisRequest(prompt: request.prompt)) else { return }
        if Genre(rawValue: analysis.genre) != nil { request.genre = analysis.genre }
        if Mood(rawValue: analysis.mood) != nil { request.mood = analysis.mood }
        if (40...240).contains(analysis.tempoBpm) { request.tempoBpm = analysis.tempoBpm }
    }
}
