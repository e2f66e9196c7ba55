import CVoiceLibraries

/// Rubber Band's offline pitch shift with formants preserved: the voice moves to another
/// pitch without the chipmunk or giant effect of resampling, and keeps its length.
enum PitchShifter {
    static func shift(_ samples: [Float], rate: Int, by scale: Double) -> [Float] {
        guard abs(scale - 1) > 0.0005, !samples.isEmpty else { return samples }
        let options = RubberBandOptions(Int32(bitPattern: RubberBandOptionProcessOffline.rawValue | RubberBandOptionFormantPreserved.rawValue
                                              | RubberBandOptionPitchHighQuality.rawValue))
        guard let state = rubberband_new(UInt32(rate), 1, options, 1.0, scale) else { return samples }
        defer { rubberband_delete(state) }
        let count = UInt32(samples.count)
        rubberband_set_expected_input_duration(state, count)
        rubberband_set_max_process_size(state, count)
        var out: [Float] = []
        out.reserveCapacity(samples.count)
        samples.withUnsafeBufferPointer { input in
            var channels: [UnsafePointer<Float>?] = [input.baseAddress]
            channels.withUnsafeMutableBufferPointer { pointers in
                rubberband_study(state, pointers.baseAddress, count, 1)
                rubberband_process(state, pointers.baseAddress, count, 1)
            }
        }
        var chunk = [Float](repeating: 0, count: 16_384)
        while true {
            let available = rubberband_available(state)
            guard available > 0 else { break }
            let got = chunk.withUnsafeMutableBufferPointer { buffer -> UInt32 in
                var targets: [UnsafeMutablePointer<Float>?] = [buffer.baseAddress]
                return targets.withUnsafeMutableBufferPointer { rubberband_retrieve(state, $0.baseAddress, UInt32(min(Int(available), buffer.count))) }
            }
            out += chunk.prefix(Int(got))
        }
        return out
    }
}
