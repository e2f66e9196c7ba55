import Foundation
import Son1kPluginKit

/// One section of a song: its kind (verse, chorus, bridge, …) and its lines.
struct Section: Codable, Sendable, Equatable {
    var type: String
    var lines: [String]
    /// The rhyme letter of each line ("ABAB"), when the engine knows it.
    var rhymeScheme: String?

    var json: JSONValue {
        var v: JSONValue = ["type": .string(type), "lines": .array(lines.map { .string($0) })]
        if let rhymeScheme { v["rhyme_scheme"] = .string(rhymeScheme) }
        return v
    }

    /// A section from JSON (a model's output, a draft): a type and a list of strings.
    init(json: JSONValue) throws {
        guard let type = json["type"].string?.trimmingCharacters(in: .whitespaces).lowercased(), !type.isEmpty, type.count <= 40 else {
            throw PluginError.invalid("sections[].type", "must be a short name such as verse, chorus or bridge.")
        }
        guard let lines = json["lines"].array?.compactMap(\.string), lines.count == json["lines"].array?.count, lines.count <= 64 else {
            throw PluginError.invalid("sections[].lines", "must be a list of at most 64 strings.")
        }
        self.type = type
        self.lines = lines.map { String($0.prefix(400)) }
        self.rhymeScheme = json["rhyme_scheme"].string
    }

    init(type: String, lines: [String], rhymeScheme: String? = nil) {
        self.type = type
        self.lines = lines
        self.rhymeScheme = rhymeScheme
    }

    /// Sections a client sent, each normalised as one from JSON (kind lower-cased, lines cut
    /// at 400 characters); 1 to 40 of them.
    static func checked(_ sections: [Section], field: String = "sections") throws -> [Section] {
        try list(.array(sections.map(\.json)), field: field)
    }

    /// Sections from a JSON array, at most 40 of them.
    static func list(_ json: JSONValue, field: String = "sections") throws -> [Section] {
        guard let items = json.array, !items.isEmpty, items.count <= 40 else {
            throw PluginError.invalid(field, "must be a list of 1 to 40 sections {type, lines}.")
        }
        return try items.map(Section.init(json:))
    }

    /// Plain text as a singer (or a music engine) reads it: `[Verse]` headers, one line each.
    static func text(_ sections: [Section]) -> String {
        sections.map { "[\($0.type.prefix(1).uppercased() + $0.type.dropFirst())]\n" + $0.lines.joined(separator: "\n") }
            .joined(separator: "\n\n")
    }
}

/// What an engine wrote.
struct Lyrics: Sendable {
    var title: String
    var language: String
    var sections: [Section]
    var engine: String
    var model: String?
    var promptTokens: Int?
    var completionTokens: Int?

    /// The answer to a request for `spec`, written in `durationMs`.
    func answer(durationMs: Int, seed: UInt64, fallback: LyricsAnswer.Fallback?) -> LyricsAnswer {
        let plain = Section.text(sections)
        let tokens = promptTokens != nil || completionTokens != nil ? LyricsAnswer.Tokens(prompt: promptTokens ?? 0, completion: completionTokens ?? 0) : nil
        return LyricsAnswer(title: title, language: language, sections: sections, engine: engine, model: model, tokens: tokens,
                            durationMs: durationMs, seed: seed, fallback: fallback, lyrics: plain, text: plain)
    }
}
