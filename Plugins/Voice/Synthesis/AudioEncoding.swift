import CVoiceLibraries
import Foundation
import Son1kAudio
import Son1kPluginKit

/// The formats synthesis delivers: WAV (16-bit PCM) and FLAC (16-bit, through libsndfile).
enum AudioFormat: String, CaseIterable, Sendable {
    case wav, flac

    var contentType: String { self == .wav ? "audio/wav" : "audio/flac" }

    func encode(_ samples: [Float], rate: Int) throws -> [UInt8] {
        switch self {
        case .wav: return WAV.encode(interleaved: samples, sampleRate: rate, channels: 1)
        case .flac: return try Self.flac(samples, rate: rate)
        }
    }

    /// libsndfile writes FLAC to a file; a private temporary one, read back and removed.
    private static func flac(_ samples: [Float], rate: Int) throws -> [UInt8] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-voice-\(UUID().uuidString).flac").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var info = SF_INFO()
        info.samplerate = Int32(rate)
        info.channels = 1
        info.format = Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        guard let file = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw PluginError(status: 500, code: "flac_failed", detail: "libsndfile could not write FLAC: \(String(cString: sf_strerror(nil)))")
        }
        let clipped = samples.map { max(-1, min(1, $0)) }
        _ = clipped.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t($0.count)) }
        sf_close(file)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
