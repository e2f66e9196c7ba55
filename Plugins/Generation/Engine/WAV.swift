/// 16-bit PCM WAV: written by the engines, read back to validate what external workers
/// upload and to describe it (rate, channels, duration).
public struct WAV: Sendable, Equatable {
    public var sampleRate: Int
    public var channels: Int
    public var bitsPerSample: Int
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
        while offset + 8 <= bytes.count {
            let id = tag(offset), size = u32(offset + 4), body = offset + 8
            if id == "fmt ", size >= 16, body + 16 <= bytes.count {
                format = (u16(body), u16(body + 2), u32(body + 4), u16(body + 14))
            } else if id == "data", let f = format {
                guard [1, 3, 0xFFFE].contains(f.format), f.channels > 0, f.rate > 0, f.bits >= 8 else { return nil }
                let end = min(bytes.count, body + size)
                let frameBytes = f.channels * f.bits / 8
                return WAV(sampleRate: f.rate, channels: f.channels, bitsPerSample: f.bits,
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
}
