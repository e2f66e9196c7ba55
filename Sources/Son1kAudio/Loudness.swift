import Foundation

/// Loudness as broadcast standards measure it (ITU-R BS.1770-4), for mastering songs and
/// describing voices alike.
public enum Loudness {
    /// Integrated loudness (ITU-R BS.1770-4): K-weighting, 400 ms blocks with 75% overlap,
    /// absolute gate at -70 LUFS and relative gate 10 LU below. `nil` for silence.
    public static func integrated(_ channels: [[Float]], rate: Double) -> Double? {
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
    public static func kWeight(_ x: [Float], rate: Double) -> [Double] {
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
