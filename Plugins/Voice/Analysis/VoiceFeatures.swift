import Foundation
import Son1kAudio
import Son1kPluginKit

/// What a recording says about a voice: how long, how high (median F0 and its spread), how
/// loud, how fast.
struct VoiceFeatures: Sendable {
    var durationS: Double
    var medianF0Hz: Double
    var f0RangeHz: (Double, Double)
    var loudnessLufs: Double?
    /// Syllable nuclei (peaks of the loudness envelope) per second of speech.
    var speakingRate: Double
    /// The mean F0 (the median's companion, for comparing deliveries).
    var meanF0Hz: Double

    /// As stored and shown: F0 to 0.1 Hz, durations and rates to 0.01.
    var view: FeaturesView {
        func round(_ v: Double, _ places: Double = 10) -> Double { (v * places).rounded() / places }
        return FeaturesView(durationS: round(durationS, 100), medianF0Hz: round(medianF0Hz), meanF0Hz: round(meanF0Hz),
                            f0RangeHz: [round(f0RangeHz.0), round(f0RangeHz.1)], loudnessLufs: loudnessLufs.map { round($0) },
                            speakingRate: round(speakingRate, 100))
    }

    /// The features of mono samples, or nil when nothing in them is voiced.
    static func measure(_ samples: [Float], rate: Int) -> VoiceFeatures? {
        let track = Pitch.track(samples, rate: rate)
        // Less than a third of a second of voice is not enough to describe one.
        guard track.count >= 30, let median = Pitch.percentile(track, 0.5), let low = Pitch.percentile(track, 0.05),
              let high = Pitch.percentile(track, 0.95) else { return nil }
        let duration = Double(samples.count) / Double(rate)
        return VoiceFeatures(durationS: duration, medianF0Hz: median, f0RangeHz: (low, high),
                             loudnessLufs: Loudness.integrated([samples], rate: Double(rate)),
                             speakingRate: syllableRate(samples, rate: rate), meanF0Hz: track.reduce(0, +) / Double(track.count))
    }

    /// Peaks of the smoothed 10 ms loudness envelope that rise 3 dB above the dip before
    /// them, at least 100 ms apart, per second between the first and last sound.
    static func syllableRate(_ samples: [Float], rate: Int) -> Double {
        let hop = max(1, rate / 100)
        var envelope: [Double] = stride(from: 0, to: samples.count - hop, by: hop).map { start in
            var e: Double = 0
            for i in start..<(start + hop) { e += Double(samples[i] * samples[i]) }
            return 10 * log10(e / Double(hop) + 1e-10)
        }
        guard envelope.count > 5, let loudest = envelope.max() else { return 0 }
        // 50 ms moving average.
        envelope = envelope.indices.map { i in
            let window = envelope[max(0, i - 2)...min(envelope.count - 1, i + 2)]
            return window.reduce(0, +) / Double(window.count)
        }
        let floor = loudest - 25
        guard let first = envelope.firstIndex(where: { $0 > floor }), let last = envelope.lastIndex(where: { $0 > floor }), last > first else { return 0 }
        var peaks = 0
        var dip = envelope[first]
        var lastPeak = -100
        for i in (first + 1)..<last {
            dip = min(dip, envelope[i])
            if envelope[i] > floor, envelope[i] >= envelope[i - 1], envelope[i] >= envelope[i + 1], envelope[i] - dip >= 3, i - lastPeak >= 10 {
                peaks += 1
                lastPeak = i
                dip = envelope[i]
            }
        }
        return Double(peaks) / (Double(last - first) / 100)
    }
}
