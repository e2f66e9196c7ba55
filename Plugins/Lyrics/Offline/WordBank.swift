/// What the offline engine writes with, per language: rhyme groups (nouns sharing an
/// ending, so any two close lines in the same group rhyme), line openings that lead into
/// such a noun, and the theme words a prompt's keywords are paired with.
///
/// Openings end where a noun fits ("…beneath the", "…en tu"), so every line reads as a
/// phrase and ends on its rhyme word. `{k}` is a keyword of the prompt.
struct WordBank: Sendable {
    var language: String
    var rhymeGroups: [[String]]
    var verseOpenings: [String]
    var chorusOpenings: [String]
    var bridgeOpenings: [String]
    /// Used for a keyword-less prompt.
    var fallbackKeywords: [String]

    static func forLanguage(_ code: String) -> WordBank? { code == "es" ? spanish : code == "en" ? english : nil }

    static let english = WordBank(
        language: "en",
        rhymeGroups: [
            ["night", "light", "sight", "flight", "height", "fight"],
            ["rain", "pain", "train", "chain", "refrain", "terrain", "brain"],
            ["heart", "art", "start", "part", "counterpart"],
            ["fire", "desire", "wire", "spire", "empire"],
            ["day", "way", "play", "ray", "bay", "highway", "runaway"],
            ["dream", "stream", "gleam", "beam", "moonbeam", "sunbeam"],
            ["stone", "throne", "phone", "cyclone", "microphone", "ozone"],
            ["place", "face", "space", "grace", "race", "trace", "embrace"],
            ["sound", "ground", "round", "playground", "background"],
            ["glow", "snow", "flow", "show", "window", "shadow"],
        ],
        verseOpenings: [
            "I keep on chasing the", "we wander slowly through the", "{k} is calling from the", "you left your echo in the",
            "every morning brings the", "I hear you singing in the", "we were young beneath the", "shadows dancing on the",
            "hold on tight and find the", "I wrote your name across the", "{k} keeps burning in the", "nothing ever breaks the",
            "down the avenue I feel the", "all the stories of the", "tell me softly of the", "lost among the faces of the",
        ],
        chorusOpenings: [
            "oh, {k} is my", "we are the", "take me to the", "never let go of the", "you are my only", "sing it loud into the",
            "{k}, {k}, give me the", "all night we own the", "this is our", "run with me into the", "we light up the",
        ],
        bridgeOpenings: [
            "and when the silence finds the", "maybe someday we will see the", "if {k} could only change the",
            "slowly, slowly, I let go of the", "after all is said, I keep the",
        ],
        fallbackKeywords: ["love", "summer", "freedom", "tonight"])

    static let spanish = WordBank(
        language: "es",
        rhymeGroups: [
            ["corazón", "canción", "razón", "pasión", "ilusión", "emoción", "rincón"],
            ["mar", "lugar", "hogar", "andar", "despertar", "altar"],
            ["alegría", "melodía", "poesía", "fantasía", "compañía", "energía"],
            ["amor", "dolor", "calor", "color", "sabor", "valor", "temor"],
            ["vida", "herida", "salida", "despedida", "medida", "guarida"],
            ["locura", "ternura", "dulzura", "cintura", "altura", "aventura"],
            ["camino", "destino", "vino", "molino", "remolino"],
            ["mente", "frente", "corriente", "gente", "puente", "presente"],
            ["pasado", "lado", "legado", "tejado", "prado"],
            ["cielo", "vuelo", "consuelo", "anhelo", "suelo", "desvelo"],
        ],
        verseOpenings: [
            "y camino buscando tu", "la noche me devuelve tu", "{k} me recuerda tu", "bailamos sin miedo en tu",
            "no olvido nunca tu", "se enciende por dentro mi", "quiero quedarme en tu", "todo lo que tengo es tu",
            "mañana volveré a tu", "entre las calles guardo mi", "{k} despierta otra vez mi", "nadie me quita mi",
            "con cada paso sigo tu", "escribo en el aire tu", "me pierdo despacio en tu",
        ],
        chorusOpenings: [
            "ay, {k}, eres mi", "contigo encuentro mi", "llévame a tu", "nunca me sueltes de tu", "tú eres mi", "canta conmigo por mi",
            "{k}, {k}, dame tu", "toda la noche es mi", "solo quiero tu", "ven conmigo hacia tu",
        ],
        bridgeOpenings: [
            "y cuando el silencio llegue a mi", "quizás un día vuelva tu", "si {k} pudiera cambiar mi",
            "despacio, despacio, suelto mi", "después de todo guardo tu",
        ],
        fallbackKeywords: ["amor", "verano", "libertad", "noche"])
}
