import Foundation
import Son1kPluginKit

/// The embedded engine: composes lyrics from the prompt's keywords with the built-in word
/// banks (Spanish and English), in the requested structure and rhyme scheme, with lines
/// shaped to the requested syllable count. Everything it picks comes from a generator
/// seeded by the seed and the prompt, so the same request and seed give the same lyrics.
/// It names itself `offline`: these are templates, not a language model.
struct OfflineEngine {
    static let name = "offline"

    /// The rhyme scheme of a section kind when the request names none.
    static func defaultScheme(_ type: String) -> String {
        switch type {
        case "verse": "ABAB"
        case "chorus", "hook": "AABB"
        default: "AA"
        }
    }

    func write(_ spec: LyricsSpec, onSection: (Section) throws -> Void) throws -> Lyrics {
        guard let bank = WordBank.forLanguage(spec.language) else {
            throw PluginError(status: 422, code: "language_not_offline",
                              detail: "The offline engine writes Spanish (es) and English (en); \(spec.language) needs the Ollama engine.")
        }
        var random = SplitMix64(seed: spec.seed ^ Self.fnv1a(spec.prompt))
        let keywords = spec.keywords.isEmpty ? bank.fallbackKeywords : Array(spec.keywords.prefix(6))
        var composer = Composer(bank: bank, keywords: keywords, syllables: spec.syllablesPerLine, random: random)
        var repeated: [String: Section] = [:]
        var sections: [Section] = []
        for type in spec.structure {
            // A chorus comes back the same each time, as choruses do.
            let section = repeated[type] ?? composer.section(type, scheme: spec.rhymeScheme ?? Self.defaultScheme(type))
            if ["chorus", "hook"].contains(type) { repeated[type] = section }
            sections.append(section)
            try onSection(section)
        }
        random = composer.random
        let hook = (repeated["chorus"] ?? repeated["hook"] ?? sections[0]).lines[0]
        let word = hook.split(separator: " ").last.map(String.init) ?? ""
        let keyword = keywords[Int(random.next() % UInt64(keywords.count))]
        let title = spec.language == "es" ? "\(word.capitalized) de \(keyword)" : "\(keyword.capitalized) \(word.capitalized)"
        return Lyrics(title: title, language: spec.language, sections: sections, engine: Self.name)
    }

    /// Writes sections line by line from one seeded generator.
    struct Composer {
        let bank: WordBank
        let keywords: [String]
        let syllables: Int?
        var random: SplitMix64
        var keywordTurn = 0
        var usedOpenings: Set<String> = []

        mutating func section(_ type: String, scheme: String) -> Section {
            let openings = switch type {
            case "chorus", "hook": bank.chorusOpenings
            case "bridge", "pre-chorus": bank.bridgeOpenings
            default: bank.verseOpenings
            }
            // Each letter gets its own rhyme group, each line a different word of it.
            var groups = Array(bank.rhymeGroups.indices)
            shuffle(&groups)
            var wordsByLetter: [Character: [String]] = [:]
            for letter in scheme where wordsByLetter[letter] == nil {
                var words = bank.rhymeGroups[groups[wordsByLetter.count % groups.count]]
                shuffle(&words)
                wordsByLetter[letter] = words
            }
            var lines: [String] = []
            for (n, letter) in scheme.enumerated() {
                let words = wordsByLetter[letter]!
                let used = scheme.prefix(n).filter { $0 == letter }.count
                lines.append(line(openings, ending: words[used % words.count]))
            }
            return Section(type: type, lines: lines, rhymeScheme: scheme)
        }

        /// The best of a few candidate openings: unused ones first, then the closest to the
        /// syllable target.
        mutating func line(_ openings: [String], ending word: String) -> String {
            var order = Array(openings.indices)
            shuffle(&order)
            let fresh = order.filter { !usedOpenings.contains(openings[$0]) }
            let candidates = (fresh.isEmpty ? order : fresh + order.filter { usedOpenings.contains(openings[$0]) }).prefix(8)
            let keyword = keywords[keywordTurn % keywords.count]
            let lines = candidates.map { (index: $0, text: openings[$0].replacingOccurrences(of: "{k}", with: keyword) + " " + word) }
            var best = lines[0]
            if let target = syllables {
                // Stable choice: the first candidate among the closest.
                best = lines.min { abs(Syllables.count($0.text, language: bank.language) - target) < abs(Syllables.count($1.text, language: bank.language) - target) }!
            }
            if openings[best.index].contains("{k}") { keywordTurn += 1 }
            usedOpenings.insert(openings[best.index])
            return best.text.prefix(1).uppercased() + best.text.dropFirst()
        }

        mutating func shuffle<T>(_ items: inout [T]) {
            guard items.count > 1 else { return }
            for i in stride(from: items.count - 1, to: 0, by: -1) {
                items.swapAt(i, Int(random.next() % UInt64(i + 1)))
            }
        }
    }

    /// FNV-1a of the prompt: the same across processes (Swift's Hasher is not).
    static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and the same sequence everywhere.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
