import Son1kPluginKit

/// The lyrics plugin's services, for the plugins that use its words: the generation plugin
/// fills in a prompt-only request and attaches drafts; the voice plugin speaks drafts.
extension Service where Input == PromptAnalysisRequest, Output == PromptAnalysis {
    /// Language, genre, mood and tempo read from a prompt (offline heuristics, the same
    /// every time, unless `engine` is `auto`).
    public static let lyricsAnalyze = Service("lyrics.analyze")
}

extension Service where Input == DraftRequest, Output == DraftText {
    /// A draft's current text, for its owner only (`draft_not_found` for anyone else).
    public static let lyricsDraft = Service("lyrics.draft")
}

extension Topic where Payload == LyricsRequested {
    /// Hook, before lyrics are written: a subscriber may veto.
    public static let lyricsBeforeGenerate = Topic("lyrics.before_generate")
}

/// `lyrics.analyze`'s input.
public struct PromptAnalysisRequest: Codable, Sendable, Equatable {
    public var prompt: String
    /// `auto` lets a configured language model refine the offline reading.
    public var engine: String?
    public init(prompt: String, engine: String? = nil) {
        self.prompt = prompt
        self.engine = engine
    }
}

/// `lyrics.analyze`'s answer. Genres and moods use the generation plugin's names.
public struct PromptAnalysis: Codable, Sendable, Equatable {
    public var language: String
    public var genre: String
    public var mood: String
    public var tempoBpm: Int
    public var keywords: [String]
    /// 0 (calm) to 1 (intense), two decimals.
    public var energy: Double
    /// `offline` or the model that answered.
    public var engine: String
    public init(language: String, genre: String, mood: String, tempoBpm: Int, keywords: [String], energy: Double, engine: String) {
        self.language = language
        self.genre = genre
        self.mood = mood
        self.tempoBpm = tempoBpm
        self.keywords = keywords
        self.energy = energy
        self.engine = engine
    }
}

/// `lyrics.draft`'s input: whose draft, so nobody reads another user's.
public struct DraftRequest: Codable, Sendable, Equatable {
    public var draftId: String
    public var userId: String
    public init(draftId: String, userId: String) {
        self.draftId = draftId
        self.userId = userId
    }
}

/// `lyrics.draft`'s answer.
public struct DraftText: Codable, Sendable, Equatable {
    public var draftId: String
    public var title: String
    /// Sections as `[Chorus]` headers followed by their lines.
    public var text: String
    public init(draftId: String, title: String, text: String) {
        self.draftId = draftId
        self.title = title
        self.text = text
    }
}

/// `lyrics.before_generate`: what is about to be written.
public struct LyricsRequested: Codable, Sendable, Equatable {
    public var prompt: String
    public var language: String
    /// The engines that will be tried, in order.
    public var engines: [String]
    public init(prompt: String, language: String, engines: [String]) {
        self.prompt = prompt
        self.language = language
        self.engines = engines
    }
}
