import Foundation
import Son1kPluginKit

/// Lyrics, analysis and translation from a model served by Ollama, asked for JSON that
/// follows a schema (`format`), so the answer parses into sections without guessing.
struct OllamaEngine {
    static let name = "ollama"
    let ctx: Context<LyricsPlugin.Config>
    var client: OllamaClient { OllamaClient(ctx: ctx) }

    static func sectionsSchema(types: [String]? = nil) -> JSONValue {
        var type: JSONValue = ["type": "string"]
        if let types { type["enum"] = .array(types.map { .string($0) }) }
        return ["type": "array", "items": ["type": "object", "required": ["type", "lines"],
                                           "properties": ["type": type, "lines": ["type": "array", "items": ["type": "string"]]]]]
    }

    static func lyricsSchema(_ spec: LyricsSpec) -> JSONValue {
        ["type": "object", "required": ["title", "sections"],
         "properties": ["title": ["type": "string"], "sections": sectionsSchema(types: Array(Set(spec.structure)).sorted())]]
    }

    func write(_ spec: LyricsSpec, streaming: Bool, onSection: (Section) throws -> Void) throws -> Lyrics {
        let model = ctx.config.model(for: "generate")
        var wants = "Write song lyrics in the language with ISO 639-1 code '\(spec.language)'. Sections in this order: \(spec.structure.joined(separator: ", "))."
        wants += " Genre: \(spec.genre). Mood: \(spec.mood)."
        if let scheme = spec.rhymeScheme { wants += " Rhyme scheme of each section: \(scheme) (one line per letter)." }
        if let syllables = spec.syllablesPerLine { wants += " About \(syllables) syllables per line." }
        wants += "\nThe song is about: \(spec.prompt)"
        let system = "You are a lyricist. Answer with JSON only: a title and the sections in the order asked, each with its type and its lines. A chorus repeats the same lines each time."
        var scanner = SectionScanner()
        var delivered = 0
        let answer = try client.chat(model: model, system: system, prompt: wants, format: Self.lyricsSchema(spec), seed: spec.seed,
                                     stream: streaming) { piece in
            for element in scanner.feed(piece) {
                try onSection(try Section(json: element))
                delivered += 1
            }
        }
        guard let document = try? JSONValue.parse(Array(answer.content.utf8)) else {
            throw PluginError(status: 502, code: "ollama_bad_output", detail: "Model \(answer.model) did not answer with the JSON asked for.")
        }
        let sections: [Section]
        do { sections = try Section.list(document["sections"]) } catch {
            throw PluginError(status: 502, code: "ollama_bad_output", detail: "Model \(answer.model) answered without usable sections.")
        }
        for section in sections.dropFirst(delivered) { try onSection(section) }
        let title = document["title"].string.map { String($0.prefix(200)) }.flatMap { $0.isEmpty ? nil : $0 } ?? (sections.first?.lines.first ?? "Untitled")
        return Lyrics(title: title, language: spec.language, sections: sections, engine: Self.name, model: answer.model,
                      promptTokens: answer.promptTokens, completionTokens: answer.completionTokens)
    }

    /// The model's reading of a prompt, kept only where it gives allowed values.
    func refine(_ offline: Analysis, prompt: String, genres: [String], moods: [String]) throws -> Analysis {
        let schema: JSONValue = [
            "type": "object", "required": ["language", "genre", "mood", "tempo_bpm", "keywords", "energy"],
            "properties": [
                "language": ["type": "string"], "genre": ["type": "string", "enum": .array(genres.map { .string($0) })],
                "mood": ["type": "string", "enum": .array(moods.map { .string($0) })], "tempo_bpm": ["type": "integer"],
                "keywords": ["type": "array", "items": ["type": "string"]], "energy": ["type": "number"],
            ],
        ]
        let answer = try client.chat(model: ctx.config.model(for: "analyze"),
                                     system: "You analyse requests for songs. Answer with JSON only: the prompt's ISO 639-1 language, genre, mood, tempo in BPM, up to 8 keywords, and energy from 0 to 1.",
                                     prompt: prompt, format: schema, seed: 0)
        guard let json = try? JSONValue.parse(Array(answer.content.utf8)) else { return offline }
        var result = offline
        if let language = json["language"].string?.lowercased(), language.count == 2 { result.language = language }
        if let genre = json["genre"].string, genres.contains(genre) { result.genre = genre }
        if let mood = json["mood"].string, moods.contains(mood) { result.mood = mood }
        if let tempo = json["tempo_bpm"].int, (40...240).contains(tempo) { result.tempoBpm = tempo }
        if let keywords = json["keywords"].array?.compactMap(\.string), !keywords.isEmpty { result.keywords = Array(keywords.prefix(8)) }
        if let energy = json["energy"].double, (0...1).contains(energy) { result.energy = energy }
        return result
    }

    func translate(_ sections: [Section], to language: String) throws -> (sections: [Section], model: String) {
        let answer = try client.chat(
            model: ctx.config.model(for: "translate"),
            system: "You translate song lyrics so they can be sung: keep each section's type and its number of lines. Answer with JSON only.",
            prompt: "Translate into the language with ISO 639-1 code '\(language)':\n" + JSONValue.array(sections.map(\.json)).jsonString,
            format: ["type": "object", "required": ["sections"], "properties": ["sections": Self.sectionsSchema()]], seed: 0)
        guard let json = try? JSONValue.parse(Array(answer.content.utf8)), let translated = try? Section.list(json["sections"]) else {
            throw PluginError(status: 502, code: "ollama_bad_output", detail: "Model \(answer.model) did not answer with translated sections.")
        }
        return (translated, answer.model)
    }
}
