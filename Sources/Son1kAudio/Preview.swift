/// A short, lower-quality excerpt of a song: what someone who has not claimed it may hear.
///
/// The first `maxSeconds` of the song, mixed to mono and resampled to `sampleRate` (16 kHz:
/// below every quality a song is rendered at), with short fades so it neither starts nor ends
/// on a click. Nothing of the original past the excerpt is in it, and at this rate the
/// excerpt is not the original's quality either.
public enum AudioPreview {
    /// The excerpt as a 16-bit PCM WAV, or nil when `song` is not a WAV file this can read.
    public static func excerpt(of song: [UInt8], maxSeconds: Double = 20, sampleRate: Int = 16_000) -> [UInt8]? {
        guard let wav = WAV.parse(song), wav.frames > 0, maxSeconds > 0, sampleRate > 0 else { return nil }
        let sourceFrames = min(wav.frames, Int(maxSeconds * Double(wav.sampleRate)))
        let head = WAV(sampleRate: wav.sampleRate, channels: wav.channels, bitsPerSample: wav.bitsPerSample, isFloat: wav.isFloat,
                       frames: sourceFrames, dataRange: wav.dataRange)
        var samples = resample(head.monoSamples(song), from: wav.sampleRate, to: min(sampleRate, wav.sampleRate))
        fade(&samples, rate: min(sampleRate, wav.sampleRate))
        return WAV.encode(interleaved: samples, sampleRate: min(sampleRate, wav.sampleRate), channels: 1)
    }

    /// Linear interpolation after a moving average as wide as the rate ratio, which keeps
    /// most of what lies above the new Nyquist frequency from folding back as noise.
    static func resample(_ x: [Float], from source: Int, to target: Int) -> [Float] {
        guard source != target, !x.isEmpty else { return x }
        let ratio = Double(source) / Double(target)
        let width = max(1, Int(ratio.rounded()))
        var smoothed = x
        if width > 1 {
            var sum: Float = 0
            for i in 0..<x.count {
                sum += x[i]
                if i >= width { sum -= x[i - width] }
                smoothed[i] = sum / Float(min(i + 1, width))
            }
        }
        let count = Int(Double(x.count) / ratio)
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let position = Double(i) * ratio
            let j = Int(position)
            let t = Float(position - Double(j))
            let a = smoothed[j], b = smoothed[min(j + 1, x.count - 1)]
            out[i] = a + (b - a) * t
        }
        return out
    }

    /// 10 ms in, 300 ms out (the excerpt usually ends mid-phrase).
    static func fade(_ x: inout [Float], rate: Int) {
        let fadeIn = min(x.count, rate / 100), fadeOut = min(x.count, rate * 3 / 10)
        for i in 0..<fadeIn { x[i] *= Float(i) / Float(fadeIn) }
        for i in 0..<fadeOut { x[x.count - 1 - i] *= Float(i) / Float(fadeOut) }
    }
}
