/// Syllable counts as singers hear them, approximated by vowel groups: enough to shape
/// lines to a requested length.
enum Syllables {
    static func count(_ line: String, language: String) -> Int {
        line.split(whereSeparator: { !$0.isLetter }).reduce(0) { $0 + word(String($1).lowercased(), language: language) }
    }

    static func word(_ w: String, language: String) -> Int {
        let chars = Array(w)
        guard !chars.isEmpty else { return 0 }
        let vowels: Set<Character> = language == "es" ? ["a", "e", "i", "o", "u", "á", "é", "í", "ó", "ú", "ü", "y"] : ["a", "e", "i", "o", "u", "y"]
        // In Spanish two strong vowels (a, e, o, or an accented í/ú) are two syllables.
        let strong: Set<Character> = ["a", "e", "o", "á", "é", "ó", "í", "ú"]
        var groups = 0
        var previous: Character?
        for (i, c) in chars.enumerated() {
            let isVowel = vowels.contains(c) && !(language == "es" && c == "y" && i < chars.count - 1)
            if isVowel {
                if let p = previous, vowels.contains(p) {
                    if language == "es", strong.contains(p), strong.contains(c) { groups += 1 }
                } else {
                    groups += 1
                }
                previous = c
            } else {
                previous = nil
            }
        }
        if language == "en", chars.count > 2, chars.last == "e", !vowels.contains(chars[chars.count - 2]),
           !(chars.count > 3 && chars[chars.count - 2] == "l" && !vowels.contains(chars[chars.count - 3])), groups > 1 {
            groups -= 1 // a silent final e: "fire" is one, "table" keeps two
        }
        return max(1, groups)
    }
}
