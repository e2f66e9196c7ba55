import Foundation
import Son1kAudio
import Son1kPluginKit
import Son1kProviderKit

/// The `remote` engine: an XTTS-style server for neural cloning on a GPU box, called with an
/// account leased from the stealth plugin. The contract (docs/VOICE.md):
///
///     POST {base_url}/tts   multipart/form-data
///       text, language, emotion, speed    form fields
///       speaker_wav                       the profile's reference recording (audio/wav)
///     → 200 audio/wav
///
/// A rate-limited or refused account postpones the job for another account.
struct RemoteEngine: VoiceEngine {
    static let engineName = "remote"
    let name = Self.engineName
    let ctx: Context<VoicePlugin.Config>

    func synthesize(_ job: SynthesisJob, profile: Profile, progress: (Double) -> Void) throws -> (samples: [Float], rate: Int) {
        guard let blob = profile.referenceBlobId else { throw VoiceEngineError.failed("The profile has no reference recording.", retryable: false) }
        let reference = try ctx.blobs.get(blob).bytes
        var form = Multipart()
        form.field("text", job.text)
        form.field("language", job.language)
        form.field("emotion", job.emotion)
        form.field("speed", String(format: "%.2f", job.speed))
        form.file("speaker_wav", filename: "reference.wav", contentType: "audio/wav", reference)
        progress(0.1)
        let response: HTTPClient.Response
        do {
            response = try ProviderCall(ctx: ctx, provider: ctx.config.remoteProvider).post(
                "/tts", body: form.body, headers: ["Content-Type": form.contentType, "Accept": "audio/wav"],
                timeoutS: Double(ctx.config.remoteTimeoutS)) { WAV.parse($0).map { $0.frames > 0 } == true }
        } catch .postponed(let reason, let seconds) {
            throw VoiceEngineError.postponed(reason, afterSeconds: seconds)
        } catch .failed(let reason, let retryable) {
            throw VoiceEngineError.failed(reason, retryable: retryable)
        }
        progress(0.9)
        let wav = WAV.parse(response.body)!
        return (wav.monoSamples(response.body), wav.sampleRate)
    }
}

/// A multipart/form-data body (RFC 7578).
struct Multipart {
    let boundary = "son1k-" + Crypto.randomToken(16)
    private(set) var body: [UInt8] = []

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func field(_ name: String, _ value: String) {
        part("Content-Disposition: form-data; name=\"\(name)\"\r\n\r\n", Array(value.utf8))
    }

    mutating func file(_ name: String, filename: String, contentType: String, _ bytes: [UInt8]) {
        part("Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n", bytes)
    }

    private mutating func part(_ head: String, _ content: [UInt8]) {
        if !body.isEmpty { body.removeLast(Array("--\(boundary)--\r\n".utf8).count) }
        body += Array("--\(boundary)\r\n\(head)".utf8) + content + Array("\r\n--\(boundary)--\r\n".utf8)
    }
}
