import Foundation

/// Scales, keys and chords: the vocabulary the composer writes in.
public enum Mode: String, Sendable, Codable, CaseIterable {
    case major, minor, dorian, mixolydian, phrygian, lydian

    /// Semitone offsets of the seven degrees from the tonic.
    var intervals: [Int] {
        switch self {
        case .major: [0, 2, 4, 5, 7, 9, 11]
        case .minor: [0, 2, 3, 5, 7, 8, 10]
        case .dorian: [0, 2, 3, 5, 7, 9, 10]
        case .mixolydian: [0, 2, 4, 5, 7, 9, 10]
        case .phrygian: [0, 1, 3, 5, 7, 8, 10]
        case .lydian: [0, 2, 4, 6, 7, 9, 11]
        }
    }
}

/// A tonic and a mode, e.g. A minor.
public struct Key: Sendable, Equatable, CustomStringConvertible {
    /// Pitch class of the tonic, 0 = C.
    public var tonic: Int
    public var mode: Mode

    static let names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]

    public var description: String { "\(Self.names[tonic]) \(mode.rawValue)" }

    /// Parses "A minor", "F#m", "Bb", "c# dorian", "Eb major". `nil` when it is not a key.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let first = t.first, let letter = "CDEFGAB".firstIndex(of: Character(first.uppercased())) else { return nil }
        let naturals = [0, 2, 4, 5, 7, 9, 11]
        var tonic = naturals["CDEFGAB".distance(from: "CDEFGAB".startIndex, to: letter)]
        var rest = Substring(t.dropFirst())
        if rest.first == "#" || rest.first == "♯" { tonic += 1; rest = rest.dropFirst() }
        else if rest.first == "b" || rest.first == "♭" { tonic -= 1; rest = rest.dropFirst() }
        let modeText = rest.trimmingCharacters(in: .whitespaces).lowercased()
        let mode: Mode
        switch modeText {
        case "", "maj", "major": mode = .major
        case "m", "min", "minor": mode = .minor
        default:
            guard let m = Mode(rawValue: modeText) else { return nil }
            mode = m
        }
        self.init(tonic: (tonic + 12) % 12, mode: mode)
    }

    public init(tonic: Int, mode: Mode) {
        self.tonic = tonic
        self.mode = mode
    }

    /// The MIDI note of scale degree `degree` (any integer; 7 is the octave) above `base`
    /// octave's tonic, where `base` is a MIDI note number of some C.
    func note(degree: Int, octaveBase base: Int) -> Int {
        let octave = Int((Double(degree) / 7).rounded(.down))
        let step = degree - octave * 7
        return base + tonic + octave * 12 + mode.intervals[step]
    }

    /// The chord on a scale degree: its pitch classes from the root up (triad, or seventh chord).
    func chord(degree: Int, seventh: Bool) -> [Int] {
        let steps = seventh ? [0, 2, 4, 6] : [0, 2, 4]
        return steps.map { (note(degree: degree + $0, octaveBase: 0) % 12 + 12) % 12 }
    }

    /// A readable chord symbol, e.g. "Am" or "G7".
    func chordName(degree: Int, seventh: Bool) -> String {
        let pcs = chord(degree: degree, seventh: true)
        let third = (pcs[1] - pcs[0] + 12) % 12
        let fifth = (pcs[2] - pcs[0] + 12) % 12
        let sev = (pcs[3] - pcs[0] + 12) % 12
        var name = Self.names[pcs[0]]
        switch (third, fifth) {
        case (3, 6): name += seventh && sev == 10 ? "m7b5" : "dim"
        case (3, _): name += seventh ? "m7" : "m"
        default: name += seventh ? (sev == 11 ? "maj7" : "7") : ""
        }
        return name
    }
}
