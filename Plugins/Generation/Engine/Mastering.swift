import Foundation
import Son1kAudio

/// The last step before encoding: fades, then peak normalisation (standard, high) or
/// loudness normalisation to -14 LUFS with a soft limiter (ultra).
enum Mastering {
    static let peakCeiling: Float = 0.891  // -1 dBFS
    static let targetLUFS = -14.0

    /// Interleaved samples for `quality.channels` channels.
    static func master(left: [Float], right: [Float], quality: Quality) -> [Float] {
        let rate = Double(quality.sampleRate)
        var channels: [[Float]] = quality.channels == 1 ? [zip(left, right).map { ($0 + $1) * 0.5 }] : [left, right]
        for i in channels.indices { fade(&channels[i], rate: rate) }
        if quality == .ultra {
            if let loudness = Loudness.integrated(channels, rate: rate) {
                let gain = Float(pow(10, (targetLUFS - loudness) / 20))
                for i in channels.indices { softLimit(&channels[i], gain: gain) }
            }
        } else {
            let peak = channels.map { $0.reduce(0) { max($0, abs($1)) } }.max() ?? 0
            if peak > 1e-6 {
                let gain = peakCeiling / peak
                for i in channels.indices { for j in channels[i].indices { channels[i][j] *= gain } }
            }
        }
        guard channels.count == 2 else { return channels[0] }
        var out = [Float](repeating: 0, count: channels[0].count * 2)
        for j in channels[0].indices {
            out[2 * j] = channels[0][j]
            out[2 * j + 1] = channels[1][j]
        }
        return out
    }

    /// 5 ms in, and out over the last 2 s (or tenth of the song when shorter).
    static func fade(_ x: inout [Float], rate: Double) {
        let fadeIn = min(x.count, Int(rate * 0.005))
        for i in 0..<fadeIn { x[i] *= Float(i) / Float(fadeIn) }
        let fadeOut = min(x.count, Int(min(2.0, Double(x.count) / rate * 0.1) * rate))
        for i in 0..<fadeOut { x[x.count - 1 - i] *= Float(i) / Float(fadeOut) }
    }

    /// Gain, then a soft knee from -2 dBFS approaching the -1 dBFS ceiling.
    static func softLimit(_ x: inout [Float], gain: Float) {
        let knee: Float = 0.794
        let room = peakCeiling - knee
        for i in x.indices {
            let v = x[i] * gain
            let a = abs(v)
            x[i] = a <= knee ? v : (v < 0 ? -1 : 1) * (knee + room * tanh((a - knee) / room))
        }
    }
}
