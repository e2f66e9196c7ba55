import Foundation
import Son1kPluginKit

/// What `POST /api/lyrics/generate` answers (and its streamed `done` line carries).
struct LyricsAnswer: Codable, Sendable {
    struct Tokens: Codable, Sendable {
        var prompt: Int
        var completion: Int
    }

    /// Why the first engine did not answer, when a later one did.
    struct Fallback: Codable, Sendable {
        var engine: String
        var code: String
        var detail: String
    }

    var title: String
    var language: String
    var sections: [Section]
    /// `ollama` or `offline`.
    var engine: String
    var model: String?
    var tokens: Tokens?
    var durationMs: Int
    /// The seed used (drawn when the request had none), so the song can be written again.
    var seed: UInt64
    var fallback: Fallback?
    /// The whole song as plain text (`[Verse]` headers, a line each), under both names the
    /// original front ends read.
    var lyrics: String
    var text: String
}

/// The body of `POST /api/lyrics/analyze`.
struct PromptBody: Codable, Sendable, SchemaRules {
    var prompt: String
    static let schemaRules: [FieldRule] = [.length("prompt", 1...2000)]
}

/// The body of `POST /api/lyrics/translate`.
struct TranslationRequest: Codable, Sendable, SchemaRules {
    var sections: [Section]
    /// ISO 639-1.
    var to: String
    static let schemaRules: [FieldRule] = [.pattern("to", "^[A-Za-z]{2}$"), .describe("to", "The target language, ISO 639-1 (es, en).")]
}

/// Sections in another language, their shape kept.
struct Translation: Codable, Sendable {
    var language: String
    var sections: [Section]
    var engine: String
    var model: String
}

/// The body of `POST /api/lyrics/drafts`.
struct NewDraft: Codable, Sendable, SchemaRules {
    var title: String
    var sections: [Section]
    var language: String?
    static let schemaRules: [FieldRule] = [.length("title", 1...200)]
}

/// The body of `PATCH /api/lyrics/drafts/{id}`: what changes; the rest stays.
struct DraftChange: Codable, Sendable, SchemaRules {
    var title: String?
    var sections: [Section]?
    static let schemaRules: [FieldRule] = [.length("title", 1...200)]
}

/// A draft as its owner sees it.
struct DraftView: Codable, Sendable {
    var id: String
    var title: String
    var language: String?
    var version: Int
    var sections: [Section]
    var createdAt: Date
    var updatedAt: Date
}

/// A page of drafts, newest first.
struct DraftPage: Codable, Sendable {
    var data: [DraftView]
    var nextCursor: String?
}

/// Every version of a draft, newest first.
struct DraftVersions: Codable, Sendable {
    struct Version: Codable, Sendable {
        var version: Int
        var title: String
        var sections: [Section]
        var createdAt: Date
    }

    var draftId: String
    var data: [Version]
}
