import Foundation
import Son1kPluginKit

/// Services the kernel itself offers to plugins through `call`, named `kernel.…`.
///
/// Only what plugins may show to other users leaves the kernel this way: a user's public
/// profile, never an email address or a role.
extension Kernel {
    /// How many users one `kernel.users.profiles` call may name (and blobs one `kernel.blobs.urls`).
    static let profilesPerCall = 500

    func callKernelService(_ name: String, input: [UInt8]) throws -> [UInt8] {
        switch name {
        case "kernel.users.profiles":
            let ids: [String]
            do { ids = try JSONValueDecoder.decode(UserProfilesRequest.self, from: JSONValue.parse(input)).userIds } catch {
                throw PluginError.invalid("user_ids", "must be an array of user ids.")
            }
            guard ids.count <= Self.profilesPerCall else {
                throw PluginError.invalid("user_ids", "may name at most \(Self.profilesPerCall) users per call.")
            }
            var profiles: [String: UserProfiles.Profile] = [:]
            for id in Set(ids) {
                guard let user = try identity.user(id: id) else { continue }
                profiles[id] = .init(userId: user.id, username: user.username, avatar: routes.avatarURL(user.id),
                                     displayName: try self.profiles.record(user.id)?.displayName)
            }
            return try JSONValueEncoder.encode(UserProfiles(profiles: profiles)).bytes
        case Service<BlobURLsRequest, BlobURLs>.blobURLs.name:
            let ids: [String]
            do { ids = try JSONValueDecoder.decode(BlobURLsRequest.self, from: JSONValue.parse(input)).blobIds } catch {
                throw PluginError.invalid("blob_ids", "must be an array of blob ids.")
            }
            guard ids.count <= Self.profilesPerCall else {
                throw PluginError.invalid("blob_ids", "may name at most \(Self.profilesPerCall) blobs per call.")
            }
            let unique = Array(Set(ids))
            guard !unique.isEmpty else { return try JSONValueEncoder.encode(BlobURLs(urls: [:])).bytes }
            // Only blobs that exist get a URL: a deleted one is left out, not signed.
            let rows = try storage.query("SELECT id FROM kernel_blobs WHERE id IN (\(unique.map { _ in "?" }.joined(separator: ", ")))",
                                         unique.map { .text($0) })
            let now = clock.now
            let urls = Dictionary(uniqueKeysWithValues: rows.compactMap { $0["id"]?.string }.map { ($0, media.url(for: $0, now: now)) })
            return try JSONValueEncoder.encode(BlobURLs(urls: urls)).bytes
        default:
            throw PluginError(status: 503, code: "service_unavailable", detail: "The kernel offers no service '\(name)'.")
        }
    }
}
