/// What the user pays for: sample rate, channels and mastering.
public enum Quality: String, Sendable, Codable, CaseIterable {
    /// 22.05 kHz mono, peak-normalised: a quick draft.
    case standard
    /// 44.1 kHz stereo, peak-normalised.
    case high
    /// 44.1 kHz stereo with reverb and chorus, normalised to -14 LUFS and limited.
    case ultra

    public var sampleRate: Int { self == .standard ? 22_050 : 44_100 }
    public var channels: Int { self == .standard ? 1 : 2 }
    var effects: Bool { self == .ultra }
}
