import Foundation
import Son1kMusicEngine
import Son1kPluginKit

/// Genre and mood names as front ends send them: display names (`Hip Hop`, `Lo-Fi`), any
/// case, and common synonyms, read into what the engine knows. An empty value means "let the
/// prompt decide". Anything else the engine does not know is a 422 listing what it accepts,
/// and every name that was read as another is reported on the job (`mapped`).
enum StyleNames {
    /// A value read as another: `{"given": "Hip Hop", "used": "hiphop"}`.
    struct Mapping: Codable, Sendable, Equatable {
        var given: String
        var used: String
    }

    /// Synonyms by their key (lower case, letters and digits only).
    static let genreSynonyms: [String: Genre] = [
        "rap": .hiphop, "trap": .hiphop, "boombap": .hiphop, "urban": .hiphop,
        "edm": .electronic, "electro": .electronic, "electronica": .electronic, "house": .electronic, "techno": .electronic,
        "dance": .electronic, "trance": .electronic, "synthwave": .electronic,
        "reggaeton": .latin, "latino": .latin, "salsa": .latin, "cumbia": .latin, "bachata": .latin,
        "classic": .classical, "orchestral": .classical, "orchestra": .classical, "cinematic": .classical,
        "chillhop": .lofi, "chill": .lofi, "acoustic": .folk, "singersongwriter": .folk,
        "heavymetal": .metal, "hardrock": .rock, "punk": .rock, "indie": .rock, "alternative": .rock,
        "bluegrass": .country, "americana": .country, "soul": .blues, "rnb": .blues, "ballad": .pop,
    ]
    static let moodSynonyms: [String: Mood] = [
        "joyful": .happy, "cheerful": .happy, "uplifting": .happy, "bright": .happy, "feliz": .happy, "alegre": .happy,
        "melancholic": .sad, "melancholy": .sad, "nostalgic": .sad, "triste": .sad, "emotional": .sad,
        "upbeat": .energetic, "energy": .energetic, "hype": .energetic, "intense": .energetic, "aggressive": .energetic, "powerful": .energetic,
        "chill": .calm, "relaxed": .calm, "relaxing": .calm, "peaceful": .calm, "dreamy": .calm, "tranquilo": .calm,
        "moody": .dark, "mysterious": .dark, "sinister": .dark, "oscuro": .dark,
        "love": .romantic, "sensual": .romantic, "romantico": .romantic,
        "heroic": .epic, "cinematic": .epic, "epico": .epic,
        "neutro": .neutral,
    ]

    static func genre(_ given: String?) throws -> (Genre?, Mapping?) {
        try read(given, field: "genre", synonyms: genreSynonyms)
    }

    static func mood(_ given: String?) throws -> (Mood?, Mapping?) {
        try read(given, field: "mood", synonyms: moodSynonyms)
    }

    /// Lower case, letters and digits only: `Hip-Hop`, `hip hop` and `HIPHOP` are one name.
    static func key(_ text: String) -> String {
        String(text.lowercased().folding(options: .diacriticInsensitive, locale: nil).filter { $0.isLetter || $0.isNumber })
    }

    private static func read<Value: RawRepresentable & CaseIterable>(_ given: String?, field: String, synonyms: [String: Value]) throws -> (Value?, Mapping?)
    where Value.RawValue == String {
        guard let given, !given.trimmingCharacters(in: .whitespaces).isEmpty else { return (nil, nil) }
        let k = key(given)
        guard let value = Value(rawValue: k) ?? synonyms[k] else {
            let accepted = Value.allCases.map(\.rawValue)
            throw PluginError.invalid(field, "\"\(given)\" is not one the engine knows; use one of \(accepted.joined(separator: ", ")) (any case, spaces allowed), a synonym (\(synonyms.keys.sorted().joined(separator: ", "))), or leave it empty to let the prompt decide.")
        }
        return (value, given == value.rawValue ? nil : Mapping(given: given, used: value.rawValue))
    }
}
