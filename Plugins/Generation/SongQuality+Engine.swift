import Son1kContracts
import Son1kMusicEngine

extension SongQuality {
    /// The contract's name for the quality the engine rendered. Exhaustive, so a quality
    /// added to the engine must be added to the contract too.
    init(_ quality: Quality) {
        switch quality {
        case .standard: self = .standard
        case .high: self = .high
        case .ultra: self = .ultra
        }
    }
}
