import Foundation
import Son1kPluginKit

/// What a user chose to show others: a display name, a bio and a picture, in
/// `kernel_profiles` (a row once they set something). Their counters and badges are not
/// kept here: plugins add them each time a profile is served (``ProfileContributions``).
final class UserProfileStore: Sendable {
    struct Record: Sendable {
        var displayName: String?
        var bio: String?
        var avatarBlobID: String?
    }

    /// Limits of what a profile holds.
    static let displayNameLength = 1...50
    static let bioLength = 0...500
    static let maxAvatarBytes = 1 << 20

    let storage: any Storage

    init(storage: any Storage) {
        self.storage = storage
    }

    func record(_ userID: String) throws -> Record? {
        guard let row = try storage.query("SELECT display_name, bio, avatar_blob_id FROM kernel_profiles WHERE user_id = ?", [.text(userID)]).first else {
            return nil
        }
        return Record(displayName: row["display_name"]?.string, bio: row["bio"]?.string, avatarBlobID: row["avatar_blob_id"]?.string)
    }

    /// Sets the fields given (`.some(nil)` clears one), in one statement.
    func update(_ userID: String, displayName: String??, bio: String??) throws {
        var current = try record(userID) ?? Record()
        if let displayName { current.displayName = displayName }
        if let bio { current.bio = bio }
        try write(userID, current)
    }

    /// Makes `blobID` the user's picture; returns the one it replaces.
    func setAvatar(_ userID: String, blobID: String?) throws -> String? {
        var current = try record(userID) ?? Record()
        let previous = current.avatarBlobID
        current.avatarBlobID = blobID
        try write(userID, current)
        return previous
    }

    private func write(_ userID: String, _ r: Record) throws {
        _ = try storage.execute("""
            INSERT INTO kernel_profiles (user_id, display_name, bio, avatar_blob_id, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, bio = excluded.bio,
                avatar_blob_id = excluded.avatar_blob_id, updated_at = excluded.updated_at
            """, [.text(userID), SQLValue(r.displayName), SQLValue(r.bio), SQLValue(r.avatarBlobID), .text(Timestamp.now())])
    }

    /// The media type of an image we accept as a picture, from its first bytes (the
    /// `Content-Type` a client sends is not trusted), or nil.
    static func imageType(_ bytes: [UInt8]) -> String? {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<offset + prefix.count]) == prefix
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if starts(Array("RIFF".utf8)), starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        return nil
    }
}

/// The picture of a user who set none: a symmetric 5×5 pattern in a colour of its own, both
/// from a hash of the user id, so it is stable and tells users apart.
enum GeneratedAvatar {
    static func svg(for userID: String) -> String {
        let hash = Crypto.sha256(Array(userID.utf8))
        let hue = (Int(hash[0]) << 8 | Int(hash[1])) % 360
        var cells = ""
        for row in 0..<5 {
            for column in 0..<3 where hash[2 + row * 3 + column] & 1 == 1 {
                for x in Set([column, 4 - column]) {
                    cells += "<rect x=\"\(x * 20 + 10)\" y=\"\(row * 20 + 10)\" width=\"20\" height=\"20\"/>"
                }
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120">\
            <rect width="120" height="120" fill="hsl(\(hue), 30%, 92%)"/><g fill="hsl(\(hue), 60%, 45%)">\(cells)</g></svg>
            """
    }
}
