import Foundation
import Son1kPluginKit

/// The embedded engine: espeak-ng speaks the text with the emotion's rate, range, energy and
/// pauses; Rubber Band then moves its pitch, formants preserved, so the median F0 is the
/// profile's (times the emotion's pitch factor). It matches pitch, not timbre — its jobs say
/// `fidelity: "pitch"`.
struct EmbeddedEngine: VoiceEngine {
    static let engineName = "embedded"
    let name = Self.engineName

    /// Above this a profile starts from espeak-ng's female variant: a smaller shift sounds better.
    static let femaleVariantAboveHz = 165.0

    func synthesize(_ job: SynthesisJob, profile: Profile, progress: (Double) -> Void) throws -> (samples: [Float], rate: Int) {
        guard let profileF0 = profile.medianF0 else { throw VoiceEngineError.failed("The profile has no reference recording.", retryable: false) }
        let prosody = job.prosody
        let target = profileF0 * prosody.pitchFactor
        let variant = profileF0 > Self.femaleVariantAboveHz ? "+f3" : "+m3"
        let (base, rate) = try Espeak.speak(job.text, voice: job.language + variant, wordsPerMinute: Int((175 * prosody.rateFactor).rounded()),
                                            range: prosody.range, volume: prosody.volume, wordGap: prosody.wordGap)
        progress(0.3)
        guard let spoken = Pitch.percentile(Pitch.track(base, rate: rate), 0.5) else {
            throw VoiceEngineError.failed("espeak-ng's speech has no voiced sound to shift (is the text empty of words?).", retryable: false)
        }
        var shifted = PitchShifter.shift(base, rate: rate, by: target / spoken)
        progress(0.7)
        // One correction when the shift landed more than 1.5% off (very large shifts can).
        if let landed = Pitch.percentile(Pitch.track(shifted, rate: rate), 0.5), abs(landed / target - 1) > 0.015 {
            shifted = PitchShifter.shift(shifted, rate: rate, by: target / landed)
        }
        progress(0.9)
        return (shifted, rate)
    }
}
