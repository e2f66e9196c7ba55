/// The emotions synthesis can carry.
enum Emotion: String, CaseIterable, Sendable {
    case neutral, happy, sad, angry, calm, excited
}

/// How an emotion is delivered, scaled by its intensity (0…1): the speaking rate, the pitch
/// level relative to the profile's own (applied after matching it), the pitch range, the
/// energy, and the pauses between words. Happy and excited speak faster and higher, sad and
/// calm slower and lower with longer pauses, angry louder with a wider range.
struct Prosody: Sendable, Equatable {
    /// × espeak-ng's normal 175 words per minute.
    var rateFactor: Double
    /// × the profile's median F0.
    var pitchFactor: Double
    /// espeak-ng's pitch range, 0–100 (50 normal).
    var range: Int
    /// espeak-ng's volume, 0–200 (100 normal).
    var volume: Int
    /// Extra pause between words, in units of 10 ms.
    var wordGap: Int

    static func of(_ emotion: Emotion, intensity i: Double, speed: Double) -> Prosody {
        func scaled(_ rate: Double, _ pitch: Double, _ range: Double, _ volume: Double, _ gap: Double) -> Prosody {
            Prosody(rateFactor: (1 + rate * i) * speed, pitchFactor: 1 + pitch * i, range: Int((50 + range * i).rounded()),
                    volume: Int((100 + volume * i).rounded()), wordGap: Int((gap * i).rounded()))
        }
        switch emotion {
        case .neutral: return scaled(0, 0, 0, 0, 0)
        case .happy: return scaled(0.12, 0.12, 30, 20, 0)
        case .sad: return scaled(-0.2, -0.1, -30, -25, 6)
        case .angry: return scaled(0.08, 0.05, 40, 60, 0)
        case .calm: return scaled(-0.12, -0.04, -20, -15, 3)
        case .excited: return scaled(0.2, 0.18, 45, 40, 0)
        }
    }
}
