import Foundation
import Son1kPluginKit

/// A user's public profile as every signed-in user sees it: what the user chose (display
/// name, bio, picture), what the kernel knows (username, joined date), and what plugins add
/// through the hook `kernel.profile` (tier, counters, badges). Private fields (e-mail) only
/// for the user themself and admins.
struct PublicProfile: Codable, Sendable {
    var id: String
    var username: String
    /// The display name, or the username when none is set.
    var displayName: String
    var bio: String?
    /// Always set: the user's picture, or a generated one.
    var avatar: String
    var tier: String?
    var joinedAt: String
    var stats: [String: Int]
    var badges: [ProfileBadge]
    /// Only for the user themself and admins.
    var email: String?
}

extension KernelRoutes {
    var profileRoutes: [RouteTarget] {
        [
            route("GET", "/api/users/{id}/profile", .user, "A user's public profile",
                  description: "Username, display name, bio, avatar (always an image URL: the user's, or one generated from the id), tier, `joined_at`, `stats` (`songs_generated`, `songs_shared`, `points`, `likes_received`, `plays_received`, `claims`, and what other plugins add) and `badges`, assembled from the plugins that subscribe to `kernel.profile`. `email` only for the user and admins. 404 `user_not_found`.",
                  response: JSONSchema.of(PublicProfile.self, for: .response)) { [unowned self] req in
                try .json(try profile(req.param("id"), for: try req.requirePrincipal()))
            },
            route("PATCH", "/api/users/{user_id}/profile", .user, "Edit my profile: display name and bio (the user or an admin)",
                  description: "Body `{display_name?, bio?}`: a field left out stays, `null` clears it. `display_name` 1–50 characters, `bio` up to 500; 422 names the field, and nothing is changed.",
                  request: ["type": "object", "properties": ["display_name": ["type": ["string", "null"]], "bio": ["type": ["string", "null"]]]],
                  response: JSONSchema.of(PublicProfile.self, for: .response)) { [unowned self] req in
                let body = try req.json
                guard case .object(let fields) = body else { throw PluginError.invalid("body", "must be a JSON object.") }
                let displayName = try Self.change(fields, "display_name", UserProfileStore.displayNameLength)
                let bio = try Self.change(fields, "bio", UserProfileStore.bioLength)
                let id = req.param("user_id")
                _ = try requireUser(id)
                try kernel.profiles.update(id, displayName: displayName, bio: bio)
                return try .json(try profile(id, for: try req.requirePrincipal()))
            },
            route("PUT", "/api/users/{user_id}/avatar", .user, "Set my picture (the user or an admin)",
                  description: "The body is the image itself: PNG, JPEG, GIF or WebP (read from its bytes), at most 1 MiB (413 beyond, 415 `unsupported_image` for anything else). It replaces the previous picture; the profile's `avatar` URL stays the same.",
                  response: JSONSchema.of(PublicProfile.self, for: .response), maxBodyBytes: UserProfileStore.maxAvatarBytes) { [unowned self] req in
                let id = req.param("user_id")
                _ = try requireUser(id)
                guard !req.body.isEmpty, let type = UserProfileStore.imageType(req.body) else {
                    throw PluginError(status: 415, code: "unsupported_image", detail: "The picture must be a PNG, JPEG, GIF or WebP image.")
                }
                let blob = try kernel.blobs.put(req.body, contentType: type, ownerID: id, isPublic: true, plugin: "kernel")
                if let previous = try kernel.profiles.setAvatar(id, blobID: blob.id) { try? kernel.blobs.delete(previous) }
                return try .json(try profile(id, for: try req.requirePrincipal()))
            },
            route("DELETE", "/api/users/{user_id}/avatar", .user, "Remove my picture (a generated one takes its place)", status: 204) { [unowned self] req in
                let id = req.param("user_id")
                _ = try requireUser(id)
                if let previous = try kernel.profiles.setAvatar(id, blobID: nil) { try? kernel.blobs.delete(previous) }
                return Response(status: 204)
            },
            route("GET", "/api/users/{id}/avatar", .public, "A user's picture, for <img src>",
                  description: "The picture the user set, or a generated SVG (stable for the user). Public, so an `<img>` needs no header. 404 `user_not_found`.",
                  produces: "image/*") { [unowned self] req in
                let id = req.param("id")
                _ = try requireUser(id)
                if let blobID = try kernel.profiles.record(id)?.avatarBlobID, let record = try kernel.blobs.record(blobID) {
                    return try serveBlob(record, req, cacheControl: "public, max-age=300")
                }
                let svg = Array(GeneratedAvatar.svg(for: id).utf8)
                let etag = "\"\(Crypto.sha256Hex(svg))\""
                if req.headers["if-none-match"] == etag { return Response(status: 304, headers: [("ETag", etag)]) }
                return Response(status: 200, headers: [("Content-Type", "image/svg+xml"), ("ETag", etag), ("Cache-Control", "public, max-age=300")], body: svg)
            },
        ]
    }

    /// The URL of a user's picture (absolute under `kernel.public_url`).
    func avatarURL(_ userID: String) -> String {
        "\(kernel.media.publicURL)/api/users/\(userID)/avatar"
    }

    func profile(_ id: String, for caller: Principal) throws -> PublicProfile {
        let user = try requireUser(id)
        let chosen = try kernel.profiles.record(id)
        let published = try kernel.events.publishHook(topic: Topic<ProfileContributions>.profileAssemble.name, userID: id,
                                                      data: JSONValueEncoder.encode(ProfileContributions(userId: id)), txn: 0, publisher: "kernel")
        let added: ProfileContributions
        do { added = try JSONValueDecoder.decode(ProfileContributions.self, from: published) } catch {
            throw PluginError(status: 502, code: "profile_contribution_invalid", detail: "A plugin left the profile in a shape the kernel cannot read: \(error)")
        }
        return PublicProfile(id: user.id, username: user.username, displayName: chosen?.displayName ?? user.username, bio: chosen?.bio,
                             avatar: avatarURL(id), tier: added.tier, joinedAt: user.createdAt, stats: added.stats, badges: added.badges,
                             email: caller.mayActFor(id) ? user.email : nil)
    }

    /// A text field of a PATCH body: absent (nil), cleared (`.some(nil)`) or set, checked.
    static func change(_ fields: [String: JSONValue], _ name: String, _ length: ClosedRange<Int>) throws -> String?? {
        guard let value = fields[name] else { return nil }
        if value.isNull { return .some(nil) }
        guard let text = value.string?.trimmingCharacters(in: .whitespacesAndNewlines) else { throw PluginError.invalid(name, "must be a string or null.") }
        guard length.contains(text.count), !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) else {
            throw PluginError.invalid(name, "must be \(length.lowerBound) to \(length.upperBound) characters, without control characters.")
        }
        return .some(text)
    }
}
