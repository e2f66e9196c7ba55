import Foundation
import Son1kPluginKit

/// The body of `POST /api/lyrics/generate`, checked field by field.
struct LyricsRequest: Codable, Sendable, SchemaRules {
    var prompt: String
    var language: String?
    var genre: String?
    var mood: String?
    var structure: [String]?
    var rhymeScheme: String?
    var syllablesPerLine: Int?
    var seed: Int64?

    /// Section kinds engines understand.
    static let sectionTypes = ["intro", "verse", "pre-chorus", "chorus", "bridge", "hook", "outro"]
    static let defaultStructure = ["verse", "chorus", "verse", "chorus", "bridge", "chorus"]

    static let schemaRules: [FieldRule] = [
        .length("prompt", 1...2000), .pattern("language", "^[A-Za-z]{2}$"), .describe("language", "ISO 639-1; default: the prompt's."),
        .describe("structure", "1 to 16 sections, each one of \(sectionTypes.joined(separator: ", "))."),
        .pattern("rhyme_scheme", "^[A-Z]{2,8}$"), .range("syllables_per_line", 4...16), .range("seed", 0...Int(Int64.max)),
    ]

    func validated(analysis: Analysis) throws -> LyricsSpec {
        let text = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...2000).contains(text.count) else { throw PluginError.invalid("prompt", "must be 1 to 2000 characters.") }
        let language = (language ?? analysis.language).lowercased()
        guard language.count == 2, language.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw PluginError.invalid("language", "must be an ISO 639-1 code such as es or en.")
        }
        let structure = try (structure ?? Self.defaultStructure).map { raw -> String in
            let type = raw.lowercased()
            guard Self.sectionTypes.contains(type) else {
                throw PluginError.invalid("structure", "'\(raw)' is not a section; use \(Self.sectionTypes.joined(separator: ", ")).")
            }
            return type
        }
        guard (1...16).contains(structure.count) else { throw PluginError.invalid("structure", "must list 1 to 16 sections.") }
        if let rhymeScheme {
            guard (2...8).contains(rhymeScheme.count), rhymeScheme.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                throw PluginError.invalid("rhyme_scheme", "must be 2 to 8 capital letters such as ABAB or AABB.")
            }
        }
        if let syllablesPerLine, !(4...16).contains(syllablesPerLine) {
            throw PluginError.invalid("syllables_per_line", "must be between 4 and 16.")
        }
        if let seed, seed < 0 { throw PluginError.invalid("seed", "must be a non-negative integer.") }
        return LyricsSpec(prompt: text, language: language, genre: genre?.lowercased() ?? analysis.genre, mood: mood?.lowercased() ?? analysis.mood,
                          keywords: analysis.keywords, structure: structure, rhymeScheme: rhymeScheme,
                          syllablesPerLine: syllablesPerLine, seed: UInt64(seed ?? Int64.random(in: 0...Int64(Int32.max))))
    }
}

/// A validated request, as engines take it.
struct LyricsSpec: Sendable {
    var prompt: String
    var language: String
    var genre: String
    var mood: String
    var keywords: [String]
    var structure: [String]
    var rhymeScheme: String?
    var syllablesPerLine: Int?
    var seed: UInt64
}
