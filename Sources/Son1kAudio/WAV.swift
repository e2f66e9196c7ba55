/// WAV files: 16-bit PCM written by the engines; PCM (8–32 bit) or float read back to check
/// what workers upload, to describe it (rate, channels, duration) and to analyse voices.
public struct WAV: Sendable, Equatable {
    public var sampleRate: Int
    public var channels: Int
    public var bitsPerSample: Int
    /// IEEE float samples rather than integers.
    public var isFloat = false
    /// Frames (one sample per channel each).
    public var frames: Int
    /// Offset and length of the sample data inside the file.
    public var dataRange: Range<Int>

    public var durationSeconds: Double { Double(frames) / Double(sampleRate) }

    /// Encodes interleaved float samples (-1…1) as 16-bit PCM, rounding (no dither, so the
    /// same samples always give the same bytes).
    public static func encode(interleaved samples: [Float], sampleRate: Int, channels: Int) -> [UInt8] {
        let dataSize = samples.count * 2
        var out: [UInt8] = []
        out.reserveCapacity(44 + dataSize)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { out.append(contentsOf: $0) } }
        out += Array("RIFF".utf8); u32(36 + dataSize); out += Array("WAVE".utf8)
        out += Array("fmt ".utf8); u32(16); u16(1); u16(channels); u32(sampleRate)
        u32(sampleRate * channels * 2); u16(channels * 2); u16(16)
        out += Array("data".utf8); u32(dataSize)
        for s in samples {
            let v = Int16(clamping: Int((max(-1, min(1, s)) * 32767).rounded()))
            withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Reads the header of a RIFF/WAVE file with PCM data; `nil` when it is not one.
    public static func parse(_ bytes: [UInt8]) -> WAV? {
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func tag(_ at: Int) -> String { String(decoding: bytes[at..<(at + 4)], as: UTF8.self) }
        guard bytes.count >= 12, tag(0) == "RIFF", tag(8) == "WAVE" else { return nil }
        var offset = 12
        var format: (format: Int, channels: Int, rate: Int, bits: Int)?
        var isFloat = false
        while offset + 8 <= bytes.count {
            let id = tag(offset), size = u32(offset + 4), body = offset + 8
            if id == "fmt ", size >= 16, body + 16 <= bytes.count {
                format = (u16(body), u16(body + 2), u32(body + 4), u16(body + 14))
                // WAVE_FORMAT_EXTENSIBLE names the real format in its sub-format GUID.
                let code = format!.format == 0xFFFE && size >= 26 && body + 26 <= bytes.count ? u16(body + 24) : format!.format
                isFloat = code == 3
            } else if id == "data", let f = format {
                guard [1, 3, 0xFFFE].contains(f.format), f.channels > 0, f.rate > 0, f.bits >= 8 else { return nil }
                let end = min(bytes.count, body + size)
                let frameBytes = f.channels * f.bits / 8
                guard frameBytes > 0, [8, 16, 24, 32, 64].contains(f.bits), !isFloat || f.bits >= 32 else { return nil }
                return WAV(sampleRate: f.rate, channels: f.channels, bitsPerSample: f.bits, isFloat: isFloat,
                           frames: (end - body) / frameBytes, dataRange: body..<end)
            }
            offset = body + size + (size % 2)
        }
        return nil
    }

    /// Root mean square of 16-bit samples, 0…1 (the "is it silence?" test).
    public func rms16(_ bytes: [UInt8]) -> Double {
        guard bitsPerSample == 16, !dataRange.isEmpty else { return 0 }
        var sum = 0.0
        var i = dataRange.lowerBound
        while i + 1 < dataRange.upperBound {
            let v = Double(Int16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8)) / 32768
            sum += v * v
            i += 2
        }
        return (sum / Double(dataRange.count / 2)).squareRoot()
    }

    /// The samples as floats (-1…1), channels averaged into one.
    public func monoSamples(_ bytes: [UInt8]) -> [Float] {
        let width = bitsPerSample / 8
        var out = [Float](repeating: 0, count: frames)
        bytes.withUnsafeBytes { raw in
            func sample(_ at: Int) -> Float {
                switch (isFloat, width) {
                case (true, 4): return Float(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
                case (true, _): return Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian))
                case (false, 1): return (Float(raw[at]) - 128) / 128
                case (false, 2): return Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int16.self))) / 32768
                case (false, 3):
                    let v = Int32(raw[at]) << 8 | Int32(raw[at + 1]) << 16 | Int32(raw[at + 2]) << 24
                    return Float(v >> 8) / 8_388_608
                default: return Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self))) / 2_147_483_648
                }
            }
            for frame in 0..<frames {
                var sum: Float = 0
                let start = dataRange.lowerBound + frame * width * channels
                for channel in 0..<channels { sum += sample(start + channel * width) }
                out[frame] = sum / Float(channels)
            }
        }
        return out
    }
}
