import Foundation
import Son1kAudio
import Testing

/// The pool's preview excerpt: shorter, mono, 16 kHz, and still the same music.
@Suite struct AudioPreviewTests {
    /// A stereo 44.1 kHz WAV: a 440 Hz tone on the left, 440 Hz on the right a little quieter.
    static func tone(seconds: Double, rate: Int = 44_100) -> [UInt8] {
        let frames = Int(seconds * Double(rate))
        var samples = [Float](repeating: 0, count: frames * 2)
        for i in 0..<frames {
            let v = Float(sin(2 * Double.pi * 440 * Double(i) / Double(rate)))
            samples[2 * i] = 0.5 * v
            samples[2 * i + 1] = 0.4 * v
        }
        return WAV.encode(interleaved: samples, sampleRate: rate, channels: 2)
    }

    @Test func aLongSongBecomesTwentySecondsOfMonoAtSixteenKilohertzAtTheSamePitch() throws {
        let excerpt = try #require(AudioPreview.excerpt(of: Self.tone(seconds: 30)))
        let wav = try #require(WAV.parse(excerpt))
        #expect(wav.sampleRate == 16_000 && wav.channels == 1 && wav.bitsPerSample == 16)
        #expect(abs(wav.durationSeconds - 20) < 0.01, "\(wav.durationSeconds)")
        // Upward zero crossings in the middle second: the tone is still 440 Hz.
        let samples = wav.monoSamples(excerpt)
        let second = samples[80_000..<96_000]
        let crossings = zip(second, second.dropFirst()).filter { $0 < 0 && $1 >= 0 }.count
        #expect(abs(crossings - 440) <= 2, "\(crossings) crossings")
        // Faded at both ends, full level (the channels' mean, 0.45) in between.
        #expect(abs(samples[0]) < 0.01 && abs(samples[samples.count - 1]) < 0.01)
        #expect(abs((second.max() ?? 0) - 0.45) < 0.02)
    }

    @Test func aShortSongKeepsItsLengthAndNonWAVAudioHasNoPreview() throws {
        let excerpt = try #require(AudioPreview.excerpt(of: Self.tone(seconds: 5)))
        #expect(abs((WAV.parse(excerpt)?.durationSeconds ?? 0) - 5) < 0.01)
        #expect(AudioPreview.excerpt(of: Array("ID3 not a wav file".utf8)) == nil)
        #expect(AudioPreview.excerpt(of: []) == nil)
    }
}
