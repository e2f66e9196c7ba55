import Foundation

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
            if let loudness = integratedLoudness(channels, rate: rate) {
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

    /// Integrated loudness (ITU-R BS.1770-4): K-weighting, 400 ms blocks with 75% overlap,
    /// absolute gate at -70 LUFS and relative gate 10 LU below. `nil` for silence.
    static func integratedLoudness(_ channels: [[Float]], rate: Double) -> Double? {
        let weighted = channels.map { kWeight($0, rate: rate) }
        let block = Int(0.4 * rate), hop = block / 4
        guard let n = weighted.first?.count, n >= block else { return nil }
        var powers: [Double] = []
        var start = 0
        while start + block <= n {
            var sum = 0.0
            for ch in weighted {
                var s = 0.0
                for i in start..<(start + block) { s += Double(ch[i]) * Double(ch[i]) }
                sum += s / Double(block)
            }
            powers.append(sum)
            start += hop
        }
        func lufs(_ p: Double) -> Double { -0.691 + 10 * log10(p) }
        let absolute = powers.filter { $0 > 0 && lufs($0) > -70 }
        guard !absolute.isEmpty else { return nil }
        let threshold = lufs(absolute.reduce(0, +) / Double(absolute.count)) - 10
        let gated = absolute.filter { lufs($0) > threshold }
        return lufs(gated.reduce(0, +) / Double(gated.count))
    }

    /// The two K-weighting biquads (high shelf, then high pass) for any sample rate.
    static func kWeight(_ x: [Float], rate: Double) -> [Double] {
        var shelf = Biquad.highShelf(rate: rate, frequency: 1681.974450955533, gainDB: 3.999843853973347, q: 0.7071752369554196)
        var highPass = Biquad.highPass(rate: rate, frequency: 38.13547087602444, q: 0.5003270373238773)
        return x.map { highPass.process(shelf.process(Double($0))) }
    }

    struct Biquad {
        var b0, b1, b2, a1, a2: Double
        var z1 = 0.0, z2 = 0.0

        mutating func process(_ x: Double) -> Double {
            let y = b0 * x + z1
            z1 = b1 * x - a1 * y + z2
            z2 = b2 * x - a2 * y
            return y
        }

        static func highShelf(rate: Double, frequency: Double, gainDB: Double, q: Double) -> Biquad {
            let a = pow(10, gainDB / 40), w = 2 * Double.pi * frequency / rate
            let alpha = sin(w) / (2 * q), c = cos(w), s = 2 * sqrt(a) * alpha
            let a0 = (a + 1) - (a - 1) * c + s
            return Biquad(b0: a * ((a + 1) + (a - 1) * c + s) / a0, b1: -2 * a * ((a - 1) + (a + 1) * c) / a0,
                          b2: a * ((a + 1) + (a - 1) * c - s) / a0, a1: 2 * ((a - 1) - (a + 1) * c) / a0,
                          a2: ((a + 1) - (a - 1) * c - s) / a0)
        }

        static func highPass(rate: Double, frequency: Double, q: Double) -> Biquad {
            let w = 2 * Double.pi * frequency / rate, alpha = sin(w) / (2 * q), c = cos(w)
            let a0 = 1 + alpha
            return Biquad(b0: (1 + c) / 2 / a0, b1: -(1 + c) / a0, b2: (1 + c) / 2 / a0, a1: -2 * c / a0, a2: (1 - alpha) / a0)
        }
    }
}
