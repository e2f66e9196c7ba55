import CFluidSynth
import Foundation

/// Plays an ``Arrangement`` through libfluidsynth with a General MIDI soundfont, offline
/// and faster than real time. A fresh synthesiser per render keeps renders independent
/// (reverb tails, controller state), so the same score always gives the same samples.
enum FluidSynthRenderer {
    /// Runs once per process, before any render:
    /// - fluidsynth logs to stderr by default; its warnings (e.g. about unused presets) are
    ///   noise in a server log, and errors reach the caller through return codes;
    /// - its first `new_fluid_synth` fills process-wide tables (interpolation, conversions)
    ///   after marking them filled, so a second synthesiser created meanwhile on another thread
    ///   renders with half-built tables — different bytes for the same song. Creating one here,
    ///   under Swift's once-only initialisation, finishes them before workers start.
    private static let prepared: Void = {
        for level in [FLUID_PANIC, FLUID_ERR, FLUID_WARN, FLUID_INFO, FLUID_DBG] {
            _ = fluid_set_log_function(Int32(level.rawValue), nil, nil)
        }
        if let settings = new_fluid_settings() {
            if let synth = new_fluid_synth(settings) { delete_fluid_synth(synth) }
            delete_fluid_settings(settings)
        }
    }()

    /// Renders `seconds` of audio. Returns the left and right channels.
    /// `progress` receives the fraction done; returning false stops with ``EngineError/cancelled``.
    static func render(_ arrangement: Arrangement, quality: Quality, seconds: Double, soundfont: String,
                       progress: (Double) -> Bool) throws -> (left: [Float], right: [Float]) {
        _ = prepared
        let rate = quality.sampleRate
        guard let settings = new_fluid_settings() else { throw EngineError.failed("fluidsynth: could not allocate settings") }
        defer { delete_fluid_settings(settings) }
        fluid_settings_setnum(settings, "synth.sample-rate", Double(rate))
        fluid_settings_setint(settings, "synth.reverb.active", quality.effects ? 1 : 0)
        fluid_settings_setint(settings, "synth.chorus.active", quality.effects ? 1 : 0)
        fluid_settings_setint(settings, "synth.polyphony", quality == .standard ? 48 : 128)
        fluid_settings_setint(settings, "synth.cpu-cores", 1)
        fluid_settings_setint(settings, "synth.threadsafe-api", 0)
        fluid_settings_setnum(settings, "synth.gain", 0.4)
        guard let synth = new_fluid_synth(settings) else { throw EngineError.failed("fluidsynth: could not create a synthesiser") }
        defer { delete_fluid_synth(synth) }
        // Checked first: libfluidsynth's parser prints assertion noise on files that are not SoundFonts.
        guard isSoundFont(soundfont), fluid_synth_sfload(synth, soundfont, 1) != FLUID_FAILED else {
            throw EngineError.failed("fluidsynth could not load the soundfont at \(soundfont)")
        }
        if quality == .standard { fluid_synth_set_interp_method(synth, -1, Int32(FLUID_INTERP_LINEAR.rawValue)) }

        for track in arrangement.tracks {
            let ch = Int32(track.channel)
            if let instrument = track.instrument { fluid_synth_program_change(synth, ch, Int32(instrument.program)) }
            fluid_synth_cc(synth, ch, 7, Int32(track.volume))
            fluid_synth_cc(synth, ch, 10, Int32(track.pan))
            fluid_synth_cc(synth, ch, 91, quality.effects ? (track.role == "drums" ? 30 : 60) : 0)
            fluid_synth_cc(synth, ch, 93, quality.effects && track.role != "drums" && track.role != "bass" ? 30 : 0)
        }

        let total = Int((seconds * Double(rate)).rounded())
        let events = schedule(arrangement, rate: rate, total: total)
        var left = [Float](repeating: 0, count: total)
        var right = [Float](repeating: 0, count: total)
        var position = 0
        let chunk = rate / 2
        func renderUntil(_ end: Int) throws {
            while position < end {
                let n = min(chunk - position % chunk, end - position)
                let ok = left.withUnsafeMutableBufferPointer { l in
                    right.withUnsafeMutableBufferPointer { r in
                        fluid_synth_write_float(synth, Int32(n), l.baseAddress, Int32(position), 1, r.baseAddress, Int32(position), 1)
                    }
                }
                guard ok == FLUID_OK else { throw EngineError.failed("fluidsynth failed while rendering") }
                position += n
                if position % chunk == 0, !progress(Double(position) / Double(total)) { throw EngineError.cancelled }
            }
        }
        for e in events {
            try renderUntil(e.sample)
            if e.on { fluid_synth_noteon(synth, e.channel, e.key, e.velocity) } else { fluid_synth_noteoff(synth, e.channel, e.key) }
        }
        try renderUntil(total)
        return (left, right)
    }

    /// A SoundFont 2 file starts with a RIFF header of form type `sfbk`.
    static func isSoundFont(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 12)) ?? Data())
        return head.count == 12 && head[0..<4].elementsEqual("RIFF".utf8) && head[8..<12].elementsEqual("sfbk".utf8)
    }

    struct MIDIEvent {
        var sample: Int
        var on: Bool
        var channel: Int32
        var key: Int32
        var velocity: Int32
    }

    /// Note-ons and note-offs in sample time, in a total order (offs before ons at the same
    /// instant, then channel and key) so that equal scores give equal event streams.
    static func schedule(_ a: Arrangement, rate: Int, total: Int) -> [MIDIEvent] {
        let samplesPerBeat = a.beatSeconds * Double(rate)
        var events: [MIDIEvent] = []
        events.reserveCapacity(a.notes.count * 2)
        for n in a.notes {
            let on = Int((n.start * samplesPerBeat).rounded())
            guard on < total else { continue }
            let off = min(total, Int(((n.start + n.length) * samplesPerBeat).rounded()))
            events.append(MIDIEvent(sample: on, on: true, channel: Int32(n.channel), key: Int32(n.key), velocity: Int32(n.velocity)))
            events.append(MIDIEvent(sample: max(on + 1, off), on: false, channel: Int32(n.channel), key: Int32(n.key), velocity: 0))
        }
        events.sort { a, b in
            if a.sample != b.sample { return a.sample < b.sample }
            if a.on != b.on { return !a.on }
            if a.channel != b.channel { return a.channel < b.channel }
            return a.key < b.key
        }
        return events
    }
}
