import CVoiceLibraries
import Foundation
import Son1kPluginKit

/// espeak-ng through its C library, for the base speech. The library keeps global state and
/// delivers audio through one global callback, so every use takes one lock; synthesis is
/// fast (a sentence in milliseconds), so the lock is never held long.
enum Espeak {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var sampleRate: Int32 = 0
    nonisolated(unsafe) private static var collected: [Int16] = []

    /// Throws unless espeak-ng has a voice for `language`.
    static func checkVoice(_ language: String) throws {
        lock.lock()
        defer { lock.unlock() }
        try initialize()
        guard espeak_SetVoiceByName(language) == EE_OK else {
            throw PluginError.invalid("language", "espeak-ng has no voice for '\(language)'.")
        }
    }

    /// Speech for `text` in `voice` (a language code, with a variant such as `en+f3`).
    static func speak(_ text: String, voice: String, wordsPerMinute: Int, range: Int, volume: Int, wordGap: Int) throws -> (samples: [Float], rate: Int) {
        lock.lock()
        defer { lock.unlock() }
        try initialize()
        guard espeak_SetVoiceByName(voice) == EE_OK else {
            throw PluginError.invalid("language", "espeak-ng has no voice for '\(voice)'.")
        }
        espeak_SetParameter(espeakRATE, Int32(max(80, min(450, wordsPerMinute))), 0)
        espeak_SetParameter(espeakPITCH, 50, 0)
        espeak_SetParameter(espeakRANGE, Int32(max(0, min(100, range))), 0)
        espeak_SetParameter(espeakVOLUME, Int32(max(0, min(200, volume))), 0)
        espeak_SetParameter(espeakWORDGAP, Int32(max(0, wordGap)), 0)
        collected.removeAll(keepingCapacity: true)
        let status = text.withCString { espeak_Synth($0, strlen($0) + 1, 0, POS_CHARACTER, 0, UInt32(espeakCHARS_UTF8), nil, nil) }
        espeak_Synchronize()
        guard status == EE_OK, !collected.isEmpty else {
            throw PluginError(status: 500, code: "espeak_failed", detail: "espeak-ng produced no audio (status \(status.rawValue)).")
        }
        return (collected.map { Float($0) / 32768 }, Int(sampleRate))
    }

    /// Starts the library once; the caller holds the lock.
    private static func initialize() throws {
        guard sampleRate == 0 else { return }
        let rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nil, 0)
        guard rate > 0 else {
            throw PluginError(status: 500, code: "espeak_unavailable", detail: "espeak-ng could not start; install the Debian package espeak-ng-data.")
        }
        sampleRate = rate
        espeak_SetSynthCallback { wav, count, _ in
            if let wav, count > 0 { Espeak.collected.append(contentsOf: UnsafeBufferPointer(start: wav, count: Int(count))) }
            return 0
        }
    }
}
