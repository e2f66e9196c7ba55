import Foundation
import Son1kContracts
import Son1kPluginKit

/// What a prompt says about the song it asks for.
struct Analysis: Sendable, Equatable {
    var language: String
    var genre: String
    var mood: String
    var tempoBpm: Int
    var keywords: [String]
    var energy: Double

    /// As `lyrics.analyze` and `POST /api/lyrics/analyze` answer it.
    func contract(engine: String) -> PromptAnalysis {
        PromptAnalysis(language: language, genre: genre, mood: mood, tempoBpm: tempoBpm, keywords: keywords,
                       energy: (energy * 100).rounded() / 100, engine: engine)
    }
}

/// The offline heuristics behind `POST /api/lyrics/analyze`: stop words and letters for the
/// language, keyword lists for genre and mood (Spanish and English), tempo from both.
/// Genres and moods are the generation plugin's own names, so it can use them as they are.
enum Analyzer {
    static let stopwords: [String: Set<String>] = [
        "es": ["el", "la", "los", "las", "un", "una", "unos", "y", "o", "de", "del", "que", "en", "con", "por", "para", "sin", "sobre",
               "mi", "tu", "su", "mis", "tus", "me", "te", "se", "nos", "yo", "tú", "él", "ella", "es", "son", "está", "como", "pero",
               "muy", "más", "cuando", "donde", "todo", "toda", "al", "lo", "le", "les", "este", "esta", "ese", "esa", "ya", "hay",
               "canción", "quiero", "sea", "algo", "entre", "hasta", "desde", "también", "porque", "qué", "cómo", "bajo", "tras"],
        "en": ["the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "with", "without", "about", "my", "your", "his",
               "her", "our", "their", "i", "you", "he", "she", "we", "they", "it", "is", "are", "was", "be", "that", "this", "these",
               "like", "so", "but", "very", "more", "when", "where", "all", "from", "into", "song", "want", "some", "make", "write",
               "under", "after", "over", "by", "as", "me", "us", "them", "its", "what", "how"],
        "pt": ["o", "os", "as", "um", "uma", "e", "do", "da", "dos", "das", "não", "em", "com", "por", "para", "meu", "você", "é"],
        "fr": ["le", "les", "une", "et", "des", "du", "est", "dans", "avec", "pour", "sur", "mon", "ton", "je", "tu", "nous", "pas"],
        "it": ["il", "lo", "gli", "una", "e", "di", "del", "della", "che", "non", "per", "con", "mio", "sono", "è"],
        "de": ["der", "die", "das", "und", "ein", "eine", "ist", "nicht", "mit", "für", "auf", "ich", "du", "wir", "mein", "dein"],
    ]

    static let genreWords: [(genre: String, words: [String])] = [
        ("latin", ["reggaeton", "reguetón", "perreo", "dembow", "salsa", "bachata", "cumbia", "latin", "latino", "latina", "merengue", "flamenco"]),
        ("hiphop", ["rap", "hip", "hop", "hiphop", "trap", "rapero", "barras", "bars", "drill"]),
        ("electronic", ["edm", "techno", "house", "electronic", "electrónica", "electronica", "synth", "sintetizador", "rave", "club", "dance"]),
        ("rock", ["rock", "guitar", "guitarra", "riff", "punk", "grunge", "banda"]),
        ("metal", ["metal", "heavy", "thrash", "distortion", "distorsión"]),
        ("jazz", ["jazz", "swing", "saxophone", "saxofón", "bebop"]),
        ("blues", ["blues"]),
        ("lofi", ["lofi", "lo-fi", "study", "estudiar", "chillhop"]),
        ("ambient", ["ambient", "ambiental", "atmospheric", "atmosférico", "drone", "meditation", "meditación"]),
        ("classical", ["classical", "clásica", "clasica", "orchestra", "orquesta", "piano", "symphony", "sinfonía"]),
        ("folk", ["folk", "acoustic", "acústica", "acustica", "campfire", "fogata", "country"]),
        ("pop", ["pop", "radio", "catchy", "pegadiza"]),
    ]

    static let moodWords: [(mood: String, words: [String])] = [
        ("sad", ["sad", "triste", "tristeza", "heartbreak", "desamor", "llorar", "cry", "crying", "lonely", "soledad", "solo", "tears", "lágrimas", "goodbye", "adiós", "melancholy", "melancolía", "rain", "lluvia"]),
        ("happy", ["happy", "feliz", "alegre", "alegría", "joy", "sunshine", "sol", "smile", "sonrisa", "fiesta", "party", "celebrate", "celebrar", "summer", "verano"]),
        ("energetic", ["energetic", "energía", "energy", "fast", "rápido", "rapido", "power", "fuerte", "workout", "gym", "run", "correr", "baile", "bailar", "dance"]),
        ("calm", ["calm", "calma", "tranquilo", "tranquila", "relax", "relajante", "peaceful", "paz", "sleep", "dormir", "soft", "suave", "chill"]),
        ("dark", ["dark", "oscuro", "oscura", "night", "noche", "shadow", "sombra", "fear", "miedo", "horror", "villain"]),
        ("romantic", ["love", "amor", "romantic", "romántica", "romántico", "kiss", "beso", "besos", "heart", "corazón", "enamorado", "enamorada", "together", "juntos"]),
        ("epic", ["epic", "épico", "épica", "hero", "héroe", "battle", "batalla", "victory", "victoria", "legend", "leyenda", "cinematic"]),
    ]

    static let genreTempo: [String: Int] = [
        "pop": 112, "rock": 124, "electronic": 126, "hiphop": 90, "jazz": 120, "classical": 90, "ambient": 70, "lofi": 80,
        "latin": 96, "folk": 100, "metal": 150, "blues": 80,
    ]
    static let moodTempo: [String: Int] = ["sad": -14, "calm": -16, "happy": 6, "energetic": 14, "dark": -4, "romantic": -10, "epic": 6, "neutral": 0]
    static let moodEnergy: [String: Double] = ["sad": 0.3, "calm": 0.2, "happy": 0.7, "energetic": 0.9, "dark": 0.5, "romantic": 0.4, "epic": 0.85, "neutral": 0.5]

    static func words(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0 == "-" || $0.isNumber) }.map(String.init)
    }

    static func analyze(_ prompt: String) -> Analysis {
        let tokens = words(prompt)
        let language = detectLanguage(prompt, tokens)
        let genre = best(genreWords.map { ($0.genre, $0.words) }, tokens) ?? "pop"
        let mood = best(moodWords.map { ($0.mood, $0.words) }, tokens) ?? "neutral"
        var tempo = (genreTempo[genre] ?? 110) + (moodTempo[mood] ?? 0)
        if let explicit = explicitBPM(tokens) { tempo = explicit }
        let stop = stopwords.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        var seen = Set<String>()
        let keywords = tokens.filter { $0.count >= 3 && !stop.contains($0) && Int($0) == nil && !$0.hasSuffix("bpm") && seen.insert($0).inserted }
        var energy = moodEnergy[mood] ?? 0.5
        if ["metal", "electronic", "hiphop", "rock"].contains(genre) { energy += 0.1 }
        if ["ambient", "lofi", "classical"].contains(genre) { energy -= 0.1 }
        energy += min(0.1, Double(prompt.filter { $0 == "!" }.count) * 0.05)
        return Analysis(language: language, genre: genre, mood: mood, tempoBpm: max(40, min(240, tempo)),
                        keywords: Array(keywords.prefix(8)), energy: max(0, min(1, energy)))
    }

    /// The language whose stop words the prompt uses most; Spanish letters and marks (ñ,
    /// accents, ¿ ¡) count for Spanish. English when nothing tells.
    static func detectLanguage(_ prompt: String, _ tokens: [String]) -> String {
        var scores: [String: Double] = [:]
        for (language, list) in stopwords { scores[language] = Double(tokens.filter(list.contains).count) }
        let spanishMarks = prompt.filter { "ñ¿¡áéíóú".contains($0) }.count
        scores["es", default: 0] += Double(spanishMarks) * 0.75
        scores["es", default: 0] += Double(tokens.filter { $0.hasSuffix("ción") || $0.hasSuffix("mente") || $0.hasSuffix("dad") }.count) * 0.5
        scores["en", default: 0] += Double(tokens.filter { $0.hasSuffix("ing") || $0.hasSuffix("ly") }.count) * 0.5
        let best = scores.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }
        guard let best, best.value > 0 else { return "en" }
        // Ties between English and another language go to English, the default.
        return scores["en", default: 0] >= best.value ? "en" : best.key
    }

    static func best(_ table: [(String, [String])], _ tokens: [String]) -> String? {
        let scored = table.map { entry in (entry.0, tokens.filter(entry.1.contains).count) }
        guard let top = scored.max(by: { $0.1 < $1.1 }), top.1 > 0 else { return nil }
        return scored.first { $0.1 == top.1 }?.0
    }

    static func explicitBPM(_ tokens: [String]) -> Int? {
        for (i, t) in tokens.enumerated() {
            if t == "bpm", i > 0, let n = Int(tokens[i - 1]), (40...240).contains(n) { return n }
            if t.hasSuffix("bpm"), let n = Int(t.dropLast(3)), (40...240).contains(n) { return n }
        }
        return nil
    }
}
