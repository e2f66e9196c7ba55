/// A small, fast, seedable generator (SplitMix64). The composer draws every choice from
/// one of these, so the same seed always makes the same song on every platform — Swift's
/// `SystemRandomNumberGenerator` cannot be seeded and its algorithm is not specified.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// A uniform double in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// One element of a non-empty array.
    public mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// An independent generator for one part of the song, so adding a choice to the
    /// drums does not change the melody of an existing seed.
    public func fork(_ label: String) -> SeededRandom { SeededRandom(seed: state ^ stableHash(label)) }
}

/// FNV-1a over UTF-8: a hash that is the same in every process (Swift's `Hasher` is
/// randomly seeded per process, which would break reproducibility).
public func stableHash(_ text: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        h ^= UInt64(byte)
        h &*= 0x100_0000_01B3
    }
    return h
}
