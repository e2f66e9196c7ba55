import Foundation

/// The fundamental frequency of a voice, frame by frame, by YIN (de Cheveigné & Kawahara,
/// "YIN, a fundamental frequency estimator for speech and music", JASA 2002): the squared
/// difference function, its cumulative-mean normalisation, an absolute threshold, and
/// parabolic interpolation of the chosen lag.
enum Pitch {
    /// Voices lie between these.
    static let minHz = 60.0, maxHz = 500.0
    /// YIN's absolute threshold on the normalised difference.
    static let threshold: Float = 0.15

    /// F0 of every voiced 10 ms frame, in Hz.
    static func track(_ samples: [Float], rate: Int) -> [Double] {
        // Pitch needs no more than ~5 kHz of bandwidth: average down to about 11 kHz first,
        // which cuts the work by the same factor squared.
        let factor = max(1, rate / 11_025)
        let x = decimate(samples, by: factor)
        let r = Double(rate) / Double(factor)
        let tauMin = max(2, Int(r / maxHz)), tauMax = Int((r / minHz).rounded(.up))
        // The integration window spans two periods of the lowest pitch at least (30 ms):
        // shorter windows make low voices noisy.
        let window = max(tauMax, Int(r * 0.03))
        let hop = max(1, Int(r * 0.01))
        guard x.count > window + tauMax + 1 else { return [] }

        // Frames more than 18 dB below the loudest are pauses or the fading ends of syllables,
        // where the pitch is unreliable: left out, whatever their periodicity.
        var energies: [Float] = []
        var start = 0
        while start + window + tauMax < x.count {
            var e: Float = 0
            for j in start..<(start + window) { e += x[j] * x[j] }
            energies.append((e / Float(window)).squareRoot())
            start += hop
        }
        let loudest = energies.max() ?? 0
        guard loudest > 0 else { return [] }

        var f0: [Double] = []
        var d = [Float](repeating: 0, count: tauMax + 2)
        x.withUnsafeBufferPointer { xs in
            for (frame, energy) in energies.enumerated() where energy > loudest / 8 {
                let s = frame * hop
                for tau in 1...(tauMax + 1) {
                    var sum: Float = 0
                    for j in 0..<window {
                        let delta = xs[s + j] - xs[s + j + tau]
                        sum += delta * delta
                    }
                    d[tau] = sum
                }
                // Cumulative mean normalised difference.
                var running: Float = 0
                var cmnd = [Float](repeating: 1, count: tauMax + 2)
                for tau in 1...(tauMax + 1) {
                    running += d[tau]
                    cmnd[tau] = running > 0 ? d[tau] * Float(tau) / running : 1
                }
                var tau = tauMin
                while tau <= tauMax, cmnd[tau] >= threshold { tau += 1 }
                guard tau <= tauMax else { continue }
                while tau + 1 <= tauMax, cmnd[tau + 1] < cmnd[tau] { tau += 1 }
                // Parabolic interpolation around the minimum.
                let a = Double(cmnd[tau - 1]), b = Double(cmnd[tau]), c = Double(cmnd[tau + 1])
                let denominator = a - 2 * b + c
                let offset = denominator != 0 ? max(-0.5, min(0.5, 0.5 * (a - c) / denominator)) : 0
                f0.append(r / (Double(tau) + offset))
            }
        }
        return f0
    }

    /// Averages of `factor` samples: a crude low-pass and a decimation in one.
    static func decimate(_ x: [Float], by factor: Int) -> [Float] {
        guard factor > 1 else { return x }
        var out = [Float](repeating: 0, count: x.count / factor)
        for i in out.indices {
            var sum: Float = 0
            for j in 0..<factor { sum += x[i * factor + j] }
            out[i] = sum / Float(factor)
        }
        return out
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let position = p * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }
}
